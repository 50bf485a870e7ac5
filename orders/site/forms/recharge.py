"""Forms of the physical-SIM recharge (充值): number, operator and amount, then confirmation."""

from dataclasses import dataclass

import phonenumbers
from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from core.money import Currency, format_money
from core.validators import normalize_pakistani_mobile
from orders.services.placing import detect_operator
from plans.models import Operator, Plan, PlanKind, PlanPrice

TOKEN_SALT = "orders.site.recharge"
TOKEN_MAX_AGE = 30 * 60
PAKISTAN = 92


def parse_mobile(raw: str) -> str:
    """E.164 form of a Pakistani mobile number, or an error that says what is wrong with it."""
    try:
        parsed = phonenumbers.parse(raw, "PK")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and parsed.country_code != PAKISTAN:
        raise ValidationError(
            _("This is not a Pakistani number. Only Pakistani mobile numbers can be recharged."),
            code="foreign",
        )
    if (
        parsed is not None
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValidationError(
            _("This is a landline, not a mobile number. Mobile numbers start with 03."),
            code="landline",
        )
    try:
        return normalize_pakistani_mobile(raw)
    except ValidationError:
        raise ValidationError(
            _("Enter a complete mobile number: 11 digits starting with 03, e.g. 0300 1234567."),
            code="malformed",
        ) from None


def recharge_operators() -> QuerySet[Operator]:
    return Operator.objects.filter(supports_recharge=True)


def recharge_plans(currency: str) -> QuerySet[Plan]:
    """Active recharge plans priced in ``currency`` (``price_amount``)."""
    price = PlanPrice.objects.filter(plan=OuterRef("pk"), currency=currency).values("amount")
    return (
        Plan.objects.filter(
            kind=PlanKind.RECHARGE, is_active=True, operator__supports_recharge=True
        )
        .supplied()
        .annotate(price_amount=Subquery(price[:1]))
        .filter(price_amount__isnull=False)
        .select_related("operator")
    )


@dataclass(frozen=True)
class RechargeChoice:
    """What the customer chose in step 1; travels to the confirmation signed."""

    msisdn: str
    operator: Operator
    plan: Plan
    currency: str

    @property
    def price(self) -> str:
        return format_money(self.plan.price_amount, self.currency)

    def sign(self, user) -> str:
        payload = {
            "u": user.pk,
            "m": self.msisdn,
            "o": self.operator.pk,
            "p": self.plan.pk,
            "c": self.currency,
        }
        return signing.dumps(payload, salt=TOKEN_SALT)

    @classmethod
    def from_token(cls, token: str, user) -> "RechargeChoice":
        """Read a signed choice back; refuse one that was changed, expired or is someone else's."""
        try:
            payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        except signing.BadSignature:
            payload = {}
        if not isinstance(payload, dict) or payload.get("u") != user.pk:
            raise ValidationError(
                _("This confirmation is no longer valid. Please enter the number again."),
                code="token",
            )
        currency = payload.get("c")
        plan = (
            recharge_plans(currency).filter(pk=payload.get("p"), operator=payload.get("o")).first()
            if currency in Currency.values
            else None
        )
        if plan is None:
            raise ValidationError(
                _("This amount is no longer available. Please choose again."), code="plan"
            )
        msisdn = normalize_pakistani_mobile(str(payload.get("m", "")))
        return cls(msisdn=msisdn, operator=plan.operator, plan=plan, currency=currency)


class RechargeForm(forms.Form):
    """Step 1: the number, its operator (detected, correctable) and an amount."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        help_text=_("The Pakistani number to recharge, e.g. 0300 1234567."),
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "tel-national",
                "placeholder": "03XX XXXXXXX",
            }
        ),
    )
    operator = forms.ModelChoiceField(
        queryset=Operator.objects.none(),
        required=False,
        label=_("Operator"),
        empty_label=_("Choose the operator"),
    )
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.none(),
        required=False,
        label=_("Amount"),
        error_messages={"invalid_choice": _("Choose one of the amounts shown.")},
    )
    detected_for = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, currency: str, **kwargs):
        super().__init__(data.copy() if data is not None else None, **kwargs)
        self.currency = currency
        self.detected = None
        self.fields["operator"].queryset = recharge_operators()
        self.fields["plan"].queryset = recharge_plans(currency)

    def clean_phone(self):
        return parse_mobile(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        msisdn = cleaned.get("phone")
        if not msisdn:
            return cleaned
        self.detected = detect_operator(msisdn)
        if cleaned.get("detected_for") != msisdn:
            operator = self.detected if self.detected and self.detected.supports_recharge else None
            cleaned.update(operator=operator, detected_for=msisdn)
            self._show(operator=operator.pk if operator else "", detected_for=msisdn)
        plan, operator = cleaned.get("plan"), cleaned.get("operator")
        if plan and (operator is None or plan.operator_id != operator.pk):
            cleaned["plan"] = None
            self._show(plan="")
        return cleaned

    def _show(self, **values):
        """Render ``values`` instead of what was posted (a new number's detected operator)."""
        for name, value in values.items():
            self.data[name] = str(value)

    def amounts(self) -> list[dict]:
        """The chosen operator's amounts with their price, for the page."""
        operator = getattr(self, "cleaned_data", {}).get("operator")
        if operator is None or "phone" in self.errors:
            return []
        chosen = self.cleaned_data.get("plan")
        return [
            {
                "plan": plan,
                "price": format_money(plan.price_amount, self.currency),
                "checked": chosen is not None and plan.pk == chosen.pk,
            }
            for plan in self.fields["plan"].queryset.filter(operator=operator)
        ]

    def choice(self) -> RechargeChoice | None:
        """The complete choice, or None with errors saying what is missing."""
        if self.cleaned_data.get("operator") is None:
            self.add_error("operator", _("Choose the operator of this number."))
        if self.cleaned_data.get("plan") is None:
            self.add_error("plan", _("Choose an amount."))
        if self.errors:
            return None
        data = self.cleaned_data
        return RechargeChoice(data["phone"], data["operator"], data["plan"], self.currency)


class ConfirmForm(forms.Form):
    """Step 2: the signed choice and the customer's word that the number is right."""

    token = forms.CharField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(
        label=_("This number is correct"),
        error_messages={"required": _("Tick the box to confirm that the number is correct.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_token(self) -> RechargeChoice:
        return RechargeChoice.from_token(self.cleaned_data["token"], self.user)
