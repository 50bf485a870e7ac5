"""factory_boy factories for the domain model."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import CustomerProfile, DocumentType, IdentityCheck, Partner, User
from core.money import Currency
from core.validators import luhn_check_digit
from orders.models import (
    Gateway,
    Order,
    Payment,
    ProvisioningAttempt,
    Refund,
    ReplacementTicket,
    Sim,
    WalletEntry,
)
from plans.models import Operator, Period, Plan, PlanKind, PlanPrice, Provider


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(UserFactory):
    profile = factory.RelatedFactory(
        "tests.factories.CustomerProfileFactory", factory_related_name="user"
    )


class CustomerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerProfile

    user = factory.SubFactory(UserFactory)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    contact_email = factory.Sequence(lambda n: f"api{n}@partner.example")
    currency = Currency.PKR


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator
        django_get_or_create = ["code"]

    code = "jazz"
    name = "Jazz"
    supports_esim = True
    supports_recharge = True


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        django_get_or_create = ["name"]

    name = "Sandbox"
    adapter = Provider.Adapter.SANDBOX


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    operator = factory.SubFactory(OperatorFactory)
    provider = factory.SubFactory(ProviderFactory)
    provider_sku = factory.Sequence(lambda n: f"sku-{n}")
    kind = PlanKind.ESIM
    name = factory.Sequence(lambda n: f"Weekly 10 GB #{n}")
    data_mb = 10240
    validity_days = 7
    period = Period.WEEKLY
    cost = Decimal("450")
    cost_currency = Currency.PKR


class PlanPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanPrice

    plan = factory.SubFactory(PlanFactory)
    currency = Currency.PKR
    amount = Decimal("599")


def make_iccid(n: int) -> str:
    """A valid 19-digit ICCID (89 = telecom, 92 = Pakistan) for sequence number ``n``."""
    partial = f"8992{n:014d}"
    return partial + luhn_check_digit(partial)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    kind = Order.Kind.PURCHASE
    customer = factory.SubFactory(CustomerFactory)
    plan = factory.SubFactory(PlanFactory)
    quantity = 1
    currency = Currency.PKR
    subtotal = Decimal("599")
    total = Decimal("599")
    # The snapshot place_order takes: the plan's cost × quantity, in the plan's cost currency.
    cost = factory.LazyAttribute(lambda o: o.plan.cost * o.quantity)
    cost_currency = factory.LazyAttribute(lambda o: o.plan.cost_currency)


class SimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sim

    iccid = factory.Sequence(make_iccid)
    operator = factory.SubFactory(OperatorFactory)
    owner = factory.SubFactory(CustomerFactory)
    activation_code = factory.LazyAttribute(lambda o: f"LPA:1$smdp.sandbox.example${o.iccid}")
    data_total_mb = 10240
    data_remaining_mb = 10240
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    gateway = Gateway.TEST
    amount = Decimal("599")
    currency = Currency.PKR
    idempotency_key = factory.Sequence(lambda n: f"pay-{n}")


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    amount = Decimal("100")
    currency = Currency.PKR
    idempotency_key = factory.Sequence(lambda n: f"refund-{n}")


class ProvisioningAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProvisioningAttempt

    order = factory.SubFactory(OrderFactory)
    number = factory.Sequence(lambda n: n + 1)
    provider = factory.SubFactory(ProviderFactory)
    operation = ProvisioningAttempt.Operation.ISSUE
    reference = factory.LazyAttribute(lambda o: o.order.provider_reference)


class IdentityCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityCheck

    customer = factory.SubFactory(CustomerFactory)
    full_name = "Li Wei"
    document_type = DocumentType.PASSPORT
    document_number = "EA1234567"


class ReplacementTicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplacementTicket

    sim = factory.SubFactory(SimFactory)
    requested_by = factory.LazyAttribute(lambda o: o.sim.owner)
    identity_check = factory.SubFactory(
        IdentityCheckFactory, customer=factory.SelfAttribute("..requested_by")
    )
    reason = ReplacementTicket.Reason.LOST


class WalletEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WalletEntry

    partner = factory.SubFactory(PartnerFactory)
    kind = WalletEntry.Kind.TOP_UP
    amount = Decimal("1000")
    currency = Currency.PKR
