"""One more row for each model with an admin list, each with its own related rows.

Every row gets related objects of its own (customer, partner, SIM, …), so a list column that
loads its related object with one query per row shows up as a growing query count.
"""

import itertools
import uuid
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import ApiKey, CustomerProfile, IdentityCheck, Partner, User
from core import audit
from core.models import AuditEntry
from help.models import Article, Device
from orders.models import (
    AutoRenewal,
    AutoRenewalCharge,
    Notification,
    Order,
    Payment,
    ProvisioningAttempt,
    Refund,
    ReplacementTicket,
    SavedPaymentMethod,
    Sim,
    WalletEntry,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from plans.models import (
    Operator,
    PartnerPriceRule,
    Plan,
    Promotion,
    Provider,
    ProviderCall,
    SandboxOrder,
)
from support import services as support
from support.models import CannedReply, Conversation
from tests.factories import (
    ArticleFactory,
    CustomerFactory,
    DeviceFactory,
    IdentityCheckFactory,
    OperatorFactory,
    OrderFactory,
    PartnerFactory,
    PaymentFactory,
    PlanFactory,
    ProviderFactory,
    ProvisioningAttemptFactory,
    RefundFactory,
    ReplacementTicketFactory,
    SimFactory,
    UserFactory,
    WalletEntryFactory,
)
from tests.staff import with_totp

_numbers = itertools.count(1)


def _operator(n):
    return OperatorFactory(code=f"op{n}", name=f"Operator {n}")


def _provider(n):
    return ProviderFactory(name=f"Provider {n}")


def _plan(n):
    return PlanFactory(operator=_operator(n), provider=_provider(n))


def _order(n):
    if n % 2:
        return OrderFactory(customer=None, partner=PartnerFactory(), plan=_plan(n))
    return OrderFactory(plan=_plan(n))


def _sim(n):
    if n % 2:
        return SimFactory(owner=None, partner=PartnerFactory(), operator=_operator(n))
    return SimFactory(operator=_operator(n))


def _auto_renewal(n):
    card = SavedPaymentMethod.objects.create(
        customer=UserFactory(), gateway="test", label=f"Visa {n:04d}"
    )
    return AutoRenewal.objects.create(
        sim=_sim(n), plan=_plan(n), currency="PKR", payment_method=card
    )


def _wallet_entry(n):
    partner = PartnerFactory()
    order = OrderFactory(customer=None, partner=partner)
    return WalletEntryFactory(
        partner=partner, kind="order_debit", amount=Decimal("-599"), order=order
    )


def _partner(n):
    partner = PartnerFactory()
    WalletEntryFactory(partner=partner)
    return partner


def _endpoint(n):
    return WebhookEndpoint.objects.create(
        partner=PartnerFactory(), url=f"https://hooks{n}.example/in"
    )


def _delivery(n):
    endpoint = _endpoint(n)
    return WebhookDelivery.objects.create(
        partner=endpoint.partner,
        endpoint=endpoint,
        url=endpoint.url,
        event_id=uuid.uuid4(),
        event_type="order.fulfilled",
        payload={},
    )


def _notification(n):
    holder = {"partner": PartnerFactory()} if n % 2 else {"user": UserFactory()}
    return Notification.objects.create(
        **holder, sim=_sim(n), kind="expiry_3d", period_key=str(n), title="t", body="b"
    )


def _conversation(n):
    owner = {"partner": PartnerFactory()} if n % 2 else {"customer": CustomerFactory()}
    order = _order(n)
    order.customer, order.partner = owner.get("customer"), owner.get("partner")
    order.save(update_fields=["customer", "partner"])
    conversation = support.open_conversation(
        **owner, category="other", body=f"Question {n}", order_number=order.number
    )
    support.assign(conversation=conversation, assignee=UserFactory(is_staff=True), actor=None)
    return conversation


def _provider_call(n):
    return ProviderCall.objects.create(
        provider=_provider(n),
        operation=f"operation-{n % 3}",
        method="POST",
        path="/orders",
        outcome="ok",
        latency_ms=120,
        started_at=timezone.now(),
    )


ROW_MAKERS = {
    Group: lambda n: Group.objects.create(name=f"Group {n}"),
    EmailAddress: lambda n: EmailAddress.objects.create(
        user=UserFactory(), email=f"address{n}@example.com", verified=True, primary=True
    ),
    Authenticator: lambda n: with_totp(UserFactory()),
    User: lambda n: UserFactory(),
    CustomerProfile: lambda n: CustomerFactory(),
    Partner: _partner,
    ApiKey: lambda n: ApiKey.objects.create(
        partner=PartnerFactory(), name="key", prefix=f"key{n}", secret_hash="x" * 64
    ),
    IdentityCheck: lambda n: IdentityCheckFactory(first_approved_by=UserFactory()),
    Notification: _notification,
    WebhookEndpoint: _endpoint,
    WebhookDelivery: _delivery,
    Order: _order,
    Sim: _sim,
    Payment: lambda n: PaymentFactory(order=_order(n)),
    Refund: lambda n: RefundFactory(created_by=UserFactory()),
    ProvisioningAttempt: lambda n: ProvisioningAttemptFactory(order=_order(n), number=1),
    WebhookEvent: lambda n: WebhookEvent.objects.create(
        source="test", event_id=f"evt_{n}", event_type=f"type.{n % 3}", payload={}
    ),
    WalletEntry: _wallet_entry,
    ReplacementTicket: lambda n: ReplacementTicketFactory(sim=SimFactory(operator=_operator(n))),
    AutoRenewal: _auto_renewal,
    AutoRenewalCharge: lambda n: AutoRenewalCharge.objects.create(
        auto_renewal=_auto_renewal(n), period_key=str(n), order=OrderFactory()
    ),
    SavedPaymentMethod: lambda n: SavedPaymentMethod.objects.create(
        customer=UserFactory(), gateway="test", label=f"Visa {n:04d}"
    ),
    Operator: _operator,
    Provider: _provider,
    Plan: _plan,
    PartnerPriceRule: lambda n: PartnerPriceRule.objects.create(
        tier="gold", plan=_plan(n), discount_percent=Decimal("5")
    ),
    Promotion: lambda n: Promotion.objects.create(
        code=f"PROMO{n}", percent_off=Decimal("10"), starts_at=timezone.now()
    ),
    ProviderCall: _provider_call,
    SandboxOrder: lambda n: SandboxOrder.objects.create(reference=f"ref-{n}", operation="issue"),
    Article: lambda n: ArticleFactory(),
    Device: lambda n: DeviceFactory(lacks_esim_in=["CN"] if n % 2 else []),
    Conversation: _conversation,
    CannedReply: lambda n: CannedReply.objects.create(
        title=f"Reply {n}", body_zh_hans="您好", body_en="Hello"
    ),
    AuditEntry: lambda n: audit.record(
        action=f"test.action{n % 3}", target=_order(n), actor=UserFactory()
    ),
}


def add_rows(model, count: int) -> None:
    """Add ``count`` rows of ``model`` (and the rows they refer to)."""
    for _ in range(count):
        ROW_MAKERS[model](next(_numbers))
