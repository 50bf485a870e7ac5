"""Who people are: users, customer profiles, partners and their API keys, identity checks."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import currency_field, money_field
from core.state import TransitionMap
from core.validators import validate_e164


class UserManager(BaseUserManager):
    """Users log in with their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in: a customer or a staff member."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    phone = models.CharField(
        _("phone number"),
        max_length=16,
        blank=True,
        validators=[validate_e164],
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(Upper("email"), name="user_email_upper_idx")]  # email__iexact

    def __str__(self):
        return self.email


class Language(models.TextChoices):
    CHINESE = "zh-hans", "简体中文"
    TRADITIONAL_CHINESE = "zh-hant", "繁體中文"
    ENGLISH = "en", "English"


class CustomerProfile(models.Model):
    """A customer's preferences."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="profile"
    )
    preferred_language = models.CharField(
        verbose_name=_("preferred language"),
        max_length=10,
        choices=Language.choices,
        default=Language.CHINESE,
    )
    notify_by_email = models.BooleanField(verbose_name=_("notify by email"), default=True)
    notify_by_sms = models.BooleanField(verbose_name=_("notify by SMS"), default=False)
    identity_flagged = models.BooleanField(
        verbose_name=_("identity flagged"),
        default=False,
        help_text=_("Several identity checks were rejected: staff should look."),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")

    def __str__(self):
        return f"Profile of {self.user}"


class PriceTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")


class Partner(models.Model):
    """A shop, travel agency or sub-reseller that buys through the API from a prepaid wallet."""

    name = models.CharField(verbose_name=_("name"), max_length=200)
    slug = models.SlugField(verbose_name=_("slug"), unique=True)
    contact_email = models.EmailField(verbose_name=_("contact email"))
    tier = models.CharField(
        verbose_name=_("tier"), max_length=20, choices=PriceTier.choices, default=PriceTier.STANDARD
    )
    currency = currency_field(
        verbose_name=_("currency"), help_text=_("Currency of the wallet and of partner prices.")
    )
    credit_limit = money_field(verbose_name=_("credit limit"), default=0)
    low_balance_threshold = money_field(verbose_name=_("low balance threshold"), default=0)
    is_active = models.BooleanField(verbose_name=_("active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="partner_credit_gte_0")
        ]

    def __str__(self):
        return self.name


class ApiKey(models.Model):
    """A partner API key. Only an HMAC of the secret is stored; the key is shown once."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(verbose_name=_("name"), max_length=100)
    prefix = models.CharField(verbose_name=_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(verbose_name=_("secret hash"), max_length=64)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(verbose_name=_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True)
    allowed_ips = models.JSONField(verbose_name=_("allowed IPs"), default=list, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.partner} · {self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class DocumentType(models.TextChoices):
    CNIC = "cnic", _("CNIC")
    PASSPORT = "passport", _("Passport")


class RejectionReason(models.TextChoices):
    UNREADABLE = "unreadable", _("The document photos are not readable")
    NAME_MISMATCH = "name_mismatch", _("The name does not match the document")
    NUMBER_MISMATCH = "number_mismatch", _("The document number does not match")
    SELFIE_MISMATCH = "selfie_mismatch", _("The selfie does not match the document")
    EXPIRED = "expired", _("The document has expired")
    NOT_OWNER = "not_owner", _("The line is registered to someone else")
    OTHER = "other", _("Other reason")


class IdentityCheck(models.Model):
    """A claimed identity with its documents, reviewed by a person before a replacement."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    TRANSITIONS = TransitionMap(
        Status,
        {Status.PENDING: {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN}},
    )

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="identity_checks",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="identity_checks",
        help_text=_("Set when a partner sent the request for its end customer."),
    )
    full_name = models.CharField(verbose_name=_("full name"), max_length=200)
    document_type = models.CharField(
        verbose_name=_("document type"), max_length=20, choices=DocumentType.choices
    )
    document_number = models.CharField(verbose_name=_("document number"), max_length=30)
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="identity_reviews",
    )
    reviewed_at = models.DateTimeField(verbose_name=_("reviewed at"), null=True, blank=True)
    rejection_reason = models.CharField(
        verbose_name=_("rejection reason"),
        max_length=50,
        blank=True,
        choices=RejectionReason.choices,
    )
    rejection_note = models.TextField(verbose_name=_("rejection note"), blank=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("With two-person approval: the first of the two reviewers."),
    )
    first_approved_at = models.DateTimeField(
        verbose_name=_("first approved at"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("identity check")
        verbose_name_plural = _("identity checks")
        indexes = [models.Index(fields=["status", "created_at"])]
        permissions = [("review_identitycheck", "Can approve or reject identity checks")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(partner__isnull=False),
                name="identity_check_has_a_requester",
            )
        ]

    def __str__(self):
        return f"Identity check #{self.pk} ({self.full_name})"


class IdentityDocument(models.Model):
    """One uploaded image of an identity check, stored privately."""

    class Kind(models.TextChoices):
        FRONT = "front", _("Document front")
        BACK = "back", _("Document back")
        SELFIE = "selfie", _("Selfie holding the document")

    check_request = models.ForeignKey(
        IdentityCheck,
        verbose_name=_("identity check"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(verbose_name=_("file"), upload_to="identity/", blank=True)
    content_type = models.CharField(verbose_name=_("content type"), max_length=50)
    size_bytes = models.PositiveIntegerField(verbose_name=_("size bytes"))
    sha256 = models.CharField(verbose_name=_("sha256"), max_length=64)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    purged_at = models.DateTimeField(verbose_name=_("purged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        constraints = [
            models.UniqueConstraint(
                fields=["check_request", "kind"], name="identity_document_once_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for check #{self.check_request_id}"
