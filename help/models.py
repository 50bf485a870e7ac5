"""The help centre's articles and the list of eSIM-capable phones."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def chinese() -> bool:
    """Whether the visitor reads Chinese (else English)."""
    return (get_language() or "").startswith("zh")


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Article(models.Model):
    """A help article in Simplified Chinese and English, written in Markdown by staff."""

    class Group(models.TextChoices):
        BUYING = "buying", _("Buying")
        INSTALLING = "installing", _("Installing")
        RENEWING = "renewing", _("Renewing")
        RECHARGING = "recharging", _("Recharging")
        REPLACEMENT = "replacement", _("Replacement")
        PAYMENTS = "payments", _("Payments")
        ACCOUNT = "account", _("Account")

    slug = models.SlugField(verbose_name=_("slug"), max_length=80, unique=True)
    group = models.CharField(verbose_name=_("group"), max_length=20, choices=Group.choices)
    title_zh = models.CharField(verbose_name=_("title (Chinese)"), max_length=200)
    title_en = models.CharField(verbose_name=_("title (English)"), max_length=200)
    body_zh = models.TextField(
        verbose_name=_("text (Chinese)"), help_text=_("Markdown; HTML is shown as plain text.")
    )
    body_en = models.TextField(
        verbose_name=_("text (English)"), help_text=_("Markdown; HTML is shown as plain text.")
    )
    shows_apns = models.BooleanField(
        verbose_name=_("shows the operators' APNs"),
        default=False,
        help_text=_("Lists each operator's APN from the catalog below the text."),
    )
    is_published = models.BooleanField(verbose_name=_("published"), default=False)
    ordering = models.PositiveSmallIntegerField(verbose_name=_("ordering"), default=0)
    helpful_count = models.PositiveIntegerField(verbose_name=_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(verbose_name=_("not helpful"), default=0)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("help article")
        verbose_name_plural = _("help articles")
        ordering = ["group", "ordering", "slug"]

    def __str__(self):
        return self.title

    @property
    def title(self) -> str:
        """The title in the visitor's language."""
        return self.title_zh if chinese() else self.title_en

    @property
    def body(self) -> str:
        """The Markdown text in the visitor's language."""
        return self.body_zh if chinese() else self.body_en


class Region(models.TextChoices):
    """Where phones are sold in versions without eSIM."""

    MAINLAND_CHINA = "CN", _("mainland China")
    HONG_KONG = "HK", _("Hong Kong")
    MACAO = "MO", _("Macao")


class Device(models.Model):
    """A phone model that supports eSIM, except in the versions sold in some regions."""

    brand = models.CharField(verbose_name=_("brand"), max_length=50)
    model = models.CharField(verbose_name=_("model"), max_length=100)
    aliases = models.CharField(
        verbose_name=_("other names"),
        max_length=200,
        blank=True,
        help_text=_("Other names customers type, such as 苹果 or 华为."),
    )
    lacks_esim_in = models.JSONField(
        verbose_name=_("regions without eSIM"),
        default=list,
        blank=True,
        help_text=_("The versions sold in these regions have no eSIM."),
    )
    notes_zh = models.CharField(verbose_name=_("notes (Chinese)"), max_length=300, blank=True)
    notes_en = models.CharField(verbose_name=_("notes (English)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("eSIM phone")
        verbose_name_plural = _("eSIM phones")
        ordering = ["brand", "model"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "model"], name="help_device_unique_model")
        ]

    def __str__(self):
        return f"{self.brand} {self.model}"

    def clean(self):
        unknown = set(self.lacks_esim_in or []) - set(Region.values)
        if unknown:
            raise ValidationError({"lacks_esim_in": _("Unknown region.")})

    @property
    def notes(self) -> str:
        """The notes in the visitor's language."""
        return self.notes_zh if chinese() else self.notes_en

    def regions_without_esim(self) -> str:
        """The regions whose versions have no eSIM, named in the visitor's language."""
        names = [str(Region(code).label) for code in Region.values if code in self.lacks_esim_in]
        return ("、" if chinese() else ", ").join(names)
