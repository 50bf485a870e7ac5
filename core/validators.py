"""Validators for identifiers that cross the product's boundaries."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ICCID_MIN_LENGTH = 18
ICCID_MAX_LENGTH = 22


def luhn_checksum_ok(digits: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass the Luhn check."""
    for digit in "0123456789":
        if luhn_checksum_ok(partial + digit):
            return digit
    raise AssertionError("unreachable")


def validate_iccid(value: str) -> None:
    """An ICCID is 18-22 ASCII digits ending in a Luhn check digit."""
    if not (value.isascii() and value.isdigit()):
        raise ValidationError(_("An ICCID contains digits only."), code="iccid_digits")
    if not ICCID_MIN_LENGTH <= len(value) <= ICCID_MAX_LENGTH:
        raise ValidationError(
            _("An ICCID has %(min)d to %(max)d digits."),
            code="iccid_length",
            params={"min": ICCID_MIN_LENGTH, "max": ICCID_MAX_LENGTH},
        )
    if not luhn_checksum_ok(value):
        raise ValidationError(_("This ICCID's check digit is wrong."), code="iccid_luhn")


def validate_e164(value: str) -> None:
    """A phone number stored in E.164 form (``+923001234567``) that is a valid number."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != value
    ):
        raise ValidationError(
            _("Enter a valid phone number in international form, e.g. +923001234567."),
            code="e164",
        )


def normalize_pakistani_mobile(raw: str) -> str:
    """Parse a Pakistani mobile number as people type it (0300 1234567, +92 300…) into E.164."""
    try:
        parsed = phonenumbers.parse(raw, "PK")
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or not phonenumbers.is_valid_number_for_region(parsed, "PK")
        or phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValidationError(
            _("Enter a Pakistani mobile number, e.g. 0300 1234567."), code="pk_mobile"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
