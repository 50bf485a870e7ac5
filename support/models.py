"""Support conversations (客服): a customer's or partner's thread with staff, its messages,
screenshots, and the canned replies staff answer with."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.chinese import for_language


class Conversation(models.Model):
    """One question from a customer (or a partner) and the staff's answers, open until closed.

    ``waiting_since`` is when the oldest customer message that staff have not answered was
    written (empty once staff answer): the queue's order and its SLA clock.
    """

    class Category(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        NOT_RECEIVED = "not_received", _("Order not received")
        INSTALLATION = "installation", _("Installation")
        NO_DATA = "no_data", _("No data")
        REFUND = "refund", _("Refund")
        REPLACEMENT = "replacement", _("Replacement")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="support_conversations",
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="support_conversations",
    )
    category = models.CharField(verbose_name=_("category"), max_length=20, choices=Category.choices)
    subject = models.CharField(verbose_name=_("subject"), max_length=200)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    language = models.CharField(verbose_name=_("language"), max_length=10, default="zh-hans")
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sim = models.ForeignKey(
        "orders.Sim",
        verbose_name=_("SIM"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    waiting_since = models.DateTimeField(verbose_name=_("waiting since"), null=True, blank=True)
    last_message_at = models.DateTimeField(verbose_name=_("last message at"))
    staff_replied_at = models.DateTimeField(
        verbose_name=_("staff replied at"), null=True, blank=True
    )
    read_by_customer_at = models.DateTimeField(
        verbose_name=_("read by the customer at"), null=True, blank=True
    )
    closed_at = models.DateTimeField(verbose_name=_("closed at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(verbose_name=_("rating"), null=True, blank=True)
    rating_comment = models.TextField(verbose_name=_("rating comment"), blank=True)
    rated_at = models.DateTimeField(verbose_name=_("rated at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("support conversation")
        verbose_name_plural = _("support conversations")
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(partner__isnull=False),
                name="conversation_has_an_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="conversation_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-last_message_at"], name="conversation_customer_idx"),
            models.Index(fields=["partner", "-created_at", "-id"], name="conversation_partner_idx"),
            models.Index(fields=["status", "waiting_since"], name="conversation_queue_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    @property
    def unread_reply(self) -> bool:
        """Staff answered after the customer last read the thread."""
        return bool(self.staff_replied_at) and (
            self.read_by_customer_at is None or self.read_by_customer_at < self.staff_replied_at
        )


class Message(models.Model):
    """One message of a conversation; internal notes are staff-only."""

    class Author(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        PARTNER = "partner", _("Partner")
        STAFF = "staff", _("Staff")

    conversation = models.ForeignKey(
        Conversation,
        verbose_name=_("conversation"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author_kind = models.CharField(verbose_name=_("from"), max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(verbose_name=_("message"))
    internal = models.BooleanField(verbose_name=_("internal note"), default=False)
    notified_at = models.DateTimeField(verbose_name=_("notified at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("support message")
        verbose_name_plural = _("support messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(notified_at__isnull=True, internal=False),
                name="support_message_unsent_idx",
            )
        ]

    def __str__(self):
        return f"{self.get_author_kind_display()} #{self.pk}"


class Attachment(models.Model):
    """A screenshot sent with a message: sanitized and encrypted like identity documents."""

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(verbose_name=_("file"), max_length=200)
    content_type = models.CharField(verbose_name=_("content type"), max_length=50)
    size_bytes = models.PositiveIntegerField(verbose_name=_("size (bytes)"))
    sha256 = models.CharField(verbose_name=_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("screenshot")
        verbose_name_plural = _("screenshots")

    def __str__(self):
        return f"#{self.pk}"


class CannedReply(models.Model):
    """A ready answer staff pick in the reply form; its text in the customer's language."""

    title = models.CharField(verbose_name=_("title"), max_length=100)
    category = models.CharField(
        verbose_name=_("category"),
        max_length=20,
        choices=Conversation.Category.choices,
        blank=True,
    )
    body_zh_hans = models.TextField(verbose_name=_("text in Chinese"))
    body_en = models.TextField(verbose_name=_("text in English"))
    active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title"]

    def __str__(self):
        return self.title

    def text(self, language: str) -> str:
        """The reply in ``language`` (Chinese unless English)."""
        return self.body_en if language == "en" else for_language(self.body_zh_hans, language)
