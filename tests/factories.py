"""factory_boy factories for the domain model."""

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import (
    ApiKey,
    CustomerProfile,
    DocumentType,
    IdentityCheck,
    IdentityDocument,
    Partner,
    PriceTier,
    User,
)
from accounts.services import hash_api_key_secret
from core.models import AuditEntry
from core.money import Currency
from core.validators import luhn_check_digit
from help.models import Article, Device
from orders.models import (
    AutoRenewal,
    AutoRenewalCharge,
    FakeWalletTransaction,
    Gateway,
    Notification,
    Order,
    OrderWebhookSecret,
    Payment,
    ProvisioningAttempt,
    Refund,
    ReplacementTicket,
    SavedPaymentMethod,
    Sim,
    WalletEntry,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from orders.services.wallet import record_entry
from plans.models import (
    Operator,
    OperatorPrefix,
    PartnerPriceRule,
    Period,
    Plan,
    PlanKind,
    PlanPrice,
    Promotion,
    Provider,
    ProviderCall,
    SandboxOrder,
)
from portal.models import IdempotencyRecord
from support.models import Attachment, CannedReply, Conversation, Message


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


class FakeWalletTransactionFactory(factory.django.DjangoModelFactory):
    """A transaction as the built-in JazzCash fake keeps it."""

    class Meta:
        model = FakeWalletTransaction

    gateway = Gateway.JAZZCASH
    reference = factory.Sequence(lambda n: f"T{n:019d}")
    transaction_id = factory.Sequence(lambda n: f"FAKE{n:012d}")
    amount_minor = 59900
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))


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
    """Written by the wallet service, so it carries its running balance like every entry."""

    class Meta:
        model = WalletEntry

    partner = factory.SubFactory(PartnerFactory)
    kind = WalletEntry.Kind.TOP_UP
    amount = Decimal("1000")
    currency = Currency.PKR

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return record_entry(**kwargs)


API_KEY_SECRET = "factory-secret"  # every ApiKeyFactory key is "<prefix>.factory-secret"


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A partner's key; ``accounts.services.issue_api_key`` when the test needs the plaintext."""

    class Meta:
        model = ApiKey

    partner = factory.SubFactory(PartnerFactory)
    name = "Test key"
    prefix = factory.Sequence(lambda n: f"k{n:07d}")
    secret_hash = factory.LazyFunction(lambda: hash_api_key_secret(API_KEY_SECRET))


class IdentityDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityDocument

    check_request = factory.SubFactory(IdentityCheckFactory)
    kind = IdentityDocument.Kind.FRONT
    content_type = "image/png"
    file = factory.LazyFunction(lambda: ContentFile(b"\x89PNG document", name="front.png"))
    size_bytes = 14
    sha256 = hashlib.sha256(b"\x89PNG document").hexdigest()


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(CustomerFactory)
    kind = Notification.Kind.EXPIRY_3D
    period_key = factory.Sequence(lambda n: f"period-{n}")
    title = "Your eSIM expires in 3 days"
    body = "Renew it to keep your number and data."


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    partner = factory.SubFactory(PartnerFactory)
    url = "https://hooks.partner.example/sims"


class OrderWebhookSecretFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderWebhookSecret

    partner = factory.SubFactory(PartnerFactory)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    partner = factory.SelfAttribute("endpoint.partner")
    url = factory.SelfAttribute("endpoint.url")
    event_id = factory.LazyFunction(uuid.uuid4)
    event_type = "sim.expiring"
    payload = factory.LazyFunction(dict)


class WebhookAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    number = 1
    url = factory.SelfAttribute("delivery.url")
    started_at = factory.LazyFunction(timezone.now)


class OperatorPrefixFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperatorPrefix

    operator = factory.SubFactory(OperatorFactory)
    prefix = factory.Sequence(lambda n: f"3{n:02d}")


class PartnerPriceRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerPriceRule

    tier = PriceTier.SILVER
    discount_percent = Decimal("8")


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Promotion

    code = factory.Sequence(lambda n: f"PROMO{n}")
    percent_off = Decimal("10")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class ProviderCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderCall

    provider = factory.SubFactory(ProviderFactory)
    operation = "issue_esim"
    method = "POST"
    path = "/esims"
    outcome = ProviderCall.Outcome.OK
    latency_ms = 120
    started_at = factory.LazyFunction(timezone.now)


class SandboxOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxOrder

    reference = factory.Sequence(lambda n: f"ord-{n}")
    operation = SandboxOrder.Operation.ISSUE


class SavedPaymentMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedPaymentMethod

    customer = factory.SubFactory(CustomerFactory)
    gateway = Gateway.TEST
    payment_method_reference = factory.Sequence(lambda n: f"pm_test_{n}")
    label = "Visa •••• 4242"


class AutoRenewalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutoRenewal

    sim = factory.SubFactory(SimFactory)
    plan = factory.SubFactory(PlanFactory, kind=PlanKind.RENEWAL)
    currency = Currency.PKR
    payment_method = factory.SubFactory(
        SavedPaymentMethodFactory, customer=factory.SelfAttribute("..sim.owner")
    )


class AutoRenewalChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutoRenewalCharge

    auto_renewal = factory.SubFactory(AutoRenewalFactory)
    period_key = factory.Sequence(lambda n: f"period-{n}")


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    source = WebhookEvent.Source.TEST
    event_id = factory.Sequence(lambda n: f"evt_{n}")
    event_type = "checkout.session.completed"
    payload = factory.LazyFunction(dict)


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyRecord

    partner = factory.SubFactory(PartnerFactory)
    key = factory.Sequence(lambda n: f"key-{n}")
    fingerprint = "0" * 64


class AuditEntryFactory(factory.django.DjangoModelFactory):
    """An audit row about ``target`` (an order by default); services write the real ones."""

    class Meta:
        model = AuditEntry
        exclude = ["target"]

    target = factory.SubFactory(OrderFactory)
    action = "order.status"
    target_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.target))
    target_id = factory.LazyAttribute(lambda o: str(o.target.pk))
    target_repr = factory.LazyAttribute(lambda o: str(o.target))


class ArticleFactory(factory.django.DjangoModelFactory):
    """A published help article about buying, in both languages."""

    class Meta:
        model = Article

    slug = factory.Sequence(lambda n: f"article-{n}")
    group = Article.Group.BUYING
    title_zh = factory.Sequence(lambda n: f"帮助文章 {n}")
    title_en = factory.Sequence(lambda n: f"Help article {n}")
    body_zh = "正文。"
    body_en = "Text."
    is_published = True


class DeviceFactory(factory.django.DjangoModelFactory):
    """A phone with eSIM everywhere."""

    class Meta:
        model = Device

    brand = "Testphone"
    model = factory.Sequence(lambda n: f"Model {n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    """A customer's open conversation about installing, waiting for staff."""

    class Meta:
        model = Conversation

    customer = factory.SubFactory(CustomerFactory)
    category = Conversation.Category.INSTALLATION
    subject = factory.Sequence(lambda n: f"没有网络 {n}")
    last_message_at = factory.LazyFunction(timezone.now)
    waiting_since = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    """The customer's message in a conversation."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    author_kind = Message.Author.CUSTOMER
    author = factory.LazyAttribute(lambda o: o.conversation.customer)
    body = "安装后没有网络"


class AttachmentFactory(factory.django.DjangoModelFactory):
    """A screenshot's record on a message (the file's name only)."""

    class Meta:
        model = Attachment

    message = factory.SubFactory(MessageFactory)
    file = factory.Sequence(lambda n: f"support/screen-{n}.png")
    content_type = "image/png"
    size_bytes = 1024
    sha256 = "0" * 64


class CannedReplyFactory(factory.django.DjangoModelFactory):
    """A ready answer in both languages."""

    class Meta:
        model = CannedReply

    title = factory.Sequence(lambda n: f"Roaming {n}")
    body_zh_hans = "请打开数据漫游。"
    body_en = "Please turn data roaming on."
