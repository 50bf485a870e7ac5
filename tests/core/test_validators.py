"""Identifiers that cross the product's boundaries: ICCIDs and phone numbers."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core.validators import (
    luhn_check_digit,
    luhn_checksum_ok,
    normalize_pakistani_mobile,
    validate_e164,
    validate_iccid,
)

# 17 to 21 digits, plus the check digit: 18 to 22 digits in all.
iccid_bodies = st.text(alphabet="0123456789", min_size=17, max_size=21)


def with_check_digit(partial: str) -> str:
    return partial + luhn_check_digit(partial)


def error_code(validator, value) -> str:
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    return excinfo.value.code


# A real-world shaped ICCID (89 telecom, 92 Pakistan) that passes the Luhn check.
KNOWN_GOOD_ICCID = with_check_digit("899200000000000001")


# --- ICCID -----------------------------------------------------------------------------------


def test_known_luhn_vectors():
    # Classic Luhn examples, checked independently of luhn_check_digit.
    assert luhn_checksum_ok("79927398713")
    assert not luhn_checksum_ok("79927398710")
    assert luhn_check_digit("7992739871") == "3"


@given(iccid_bodies)
def test_any_digits_with_a_check_digit_are_a_valid_iccid(partial):
    validate_iccid(with_check_digit(partial))


@given(iccid_bodies, st.data())
def test_changing_any_single_digit_breaks_the_luhn_check(partial, data):
    iccid = with_check_digit(partial)
    position = data.draw(st.integers(min_value=0, max_value=len(iccid) - 1), label="position")
    replacement = data.draw(
        st.sampled_from([d for d in "0123456789" if d != iccid[position]]), label="digit"
    )
    mutated = iccid[:position] + replacement + iccid[position + 1 :]

    assert error_code(validate_iccid, mutated) == "iccid_luhn"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        pytest.param(with_check_digit("8" * 16), "iccid_length", id="17-digits"),
        pytest.param(with_check_digit("8" * 22), "iccid_length", id="23-digits"),
        pytest.param("", "iccid_digits", id="empty"),
        pytest.param(KNOWN_GOOD_ICCID[:-1] + "X", "iccid_digits", id="letter"),
        pytest.param(
            KNOWN_GOOD_ICCID[:10] + " " + KNOWN_GOOD_ICCID[10:], "iccid_digits", id="space"
        ),
        pytest.param("-" + KNOWN_GOOD_ICCID, "iccid_digits", id="sign"),
        # Arabic-Indic eight: str.isdigit() is True for it, but it is not ASCII.
        pytest.param(KNOWN_GOOD_ICCID[:-1] + "٨", "iccid_digits", id="arabic-indic-digit"),
        pytest.param("٨" * 19, "iccid_digits", id="all-arabic-indic"),
        pytest.param(
            KNOWN_GOOD_ICCID[:-1] + str((int(KNOWN_GOOD_ICCID[-1]) + 1) % 10),
            "iccid_luhn",
            id="bad-check-digit",
        ),
    ],
)
def test_invalid_iccids_are_refused_with_the_right_code(value, code):
    assert error_code(validate_iccid, value) == code


@pytest.mark.parametrize("length", [18, 22])
def test_boundary_lengths_are_accepted(length):
    validate_iccid(with_check_digit("8" * (length - 1)))


# --- E.164 -----------------------------------------------------------------------------------


def test_e164_accepts_a_pakistani_mobile():
    validate_e164("+923001234567")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("03001234567", id="national-form"),
        pytest.param("+92300123456", id="too-short"),
        pytest.param("+92 300 1234567", id="spaces"),
        pytest.param("+92-300-1234567", id="dashes"),
        pytest.param("abc", id="letters"),
        pytest.param("", id="empty"),
    ],
)
def test_e164_refuses_anything_else(value):
    assert error_code(validate_e164, value) == "e164"


# --- Pakistani mobiles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0300 1234567",
        "03001234567",
        "+92-300-1234567",
        "+92 300 1234567",
        # phonenumbers reads a leading 92 on a 12-digit number as the country code.
        "923001234567",
        "00923001234567",
        "3001234567",
    ],
)
def test_pakistani_mobiles_are_normalized_to_e164(raw):
    normalized = normalize_pakistani_mobile(raw)

    assert normalized == "+923001234567"
    validate_e164(normalized)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("042 35761234", id="lahore-landline"),
        pytest.param("+92 42 35761234", id="landline-international"),
        pytest.param("+4915123456789", id="german-mobile"),
        pytest.param("+8613800138000", id="chinese-mobile"),
        pytest.param("0300 123456", id="too-short"),
        pytest.param("abc", id="letters"),
        pytest.param("", id="empty"),
    ],
)
def test_non_pakistani_mobiles_are_refused(raw):
    assert error_code(normalize_pakistani_mobile, raw) == "pk_mobile"
