"""Accounts on the customer site: sign-up with email verification, two-factor login, profile,
data export and deletion."""

import json
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail

from accounts.models import CustomerProfile, User
from tests.factories import CustomerFactory, OrderFactory
from tests.staff import totp_code

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def test_sign_up_verify_email_and_land_logged_in(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "li.wei@example.com", "password1": "Qz8!long-pass", "password2": "Qz8!long-pass"},
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="li.wei@example.com")
    assert user.profile.preferred_language == "zh-hans"
    assert client.get("/account/").status_code == 302  # not verified: not logged in
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    client.post(link.group(1))
    assert client.get("/account/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"email": "not-an-email", "password1": "Qz8!long-pass", "password2": "Qz8!long-pass"},
            "email",
        ),
        (
            {"email": "a@example.com", "password1": "Qz8!long-pass", "password2": "other-pass!"},
            "password2",
        ),
        ({"email": "a@example.com", "password1": "123", "password2": "123"}, "password1"),
    ],
)
def test_bad_sign_up_is_refused(client, data, field):
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field)
    assert not User.objects.filter(email=data["email"]).exists()


def verified_customer(**kwargs):
    from allauth.account.models import EmailAddress

    user = CustomerFactory(**kwargs)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_login_with_two_factor(client):
    user = verified_customer()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert client.get("/account/").status_code == 302
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/account/").status_code == 200


def test_failed_logins_are_throttled(client, settings):
    user = verified_customer()
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    blocked = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert blocked.status_code in (200, 429)
    assert client.get("/account/").status_code == 302


def test_profile_saves_phone_language_and_preferences(client):
    user = verified_customer()
    client.force_login(user)
    response = client.post(
        "/account/",
        {
            "phone": "0300 765 4321",
            "preferred_language": "en",
            "notify_by_email": "on",
            "notify_by_sms": "on",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone == "+923007654321"
    assert (user.profile.preferred_language, user.profile.notify_by_sms) == ("en", True)
    assert response.cookies["django_language"].value == "en"
    assert 'value="0300 7654321"' in client.get("/account/").content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phone": "12345", "preferred_language": "en"}, "Pakistani mobile"),
        ({"phone": "+86 12", "preferred_language": "en"}, "valid phone number"),
        ({"phone": "", "preferred_language": "en", "notify_by_sms": "on"}, "SMS"),
        ({"phone": "", "preferred_language": "fr"}, "valid choice"),
    ],
)
def test_profile_bad_input_changes_nothing(client, data, message):
    user = verified_customer(phone="+923001112222")
    client.force_login(user)
    response = client.post("/account/", data)
    assert response.status_code == 200 and message in response.content.decode()
    user.refresh_from_db()
    assert user.phone == "+923001112222" and user.profile.preferred_language == "zh-hans"


def test_data_export_contains_the_customers_own_data_only(client):
    user = verified_customer()
    mine = OrderFactory(customer=user)
    OrderFactory()
    client.force_login(user)
    response = client.post("/account/export/")
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(response.content)
    assert data["account"]["email"] == user.email
    assert [o["number"] for o in data["orders"]] == [mine.number]
    assert client.get("/account/export/").status_code == 405


def test_account_deletion_needs_the_password_and_erases_personal_data(client):
    user = verified_customer(phone="+923001112222")
    order = OrderFactory(customer=user)
    client.force_login(user)
    refused = client.post("/account/delete/", {"password": "wrong", "confirm": "on"})
    assert refused.status_code == 200 and User.objects.get(pk=user.pk).is_active
    client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    user.refresh_from_db()
    assert not user.is_active and user.email.endswith("@deleted.invalid") and user.phone == ""
    assert not CustomerProfile.objects.filter(user=user).exists()
    order.refresh_from_db()
    assert order.customer_id == user.pk
    assert client.get("/account/").status_code == 302


def test_account_pages_need_login(client):
    for url in ("/account/", "/account/delete/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pages_carry_a_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_password_reset_by_email(client):
    user = verified_customer()
    client.post("/accounts/password/reset/", {"email": user.email})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)
    form_page = client.get(link.group(1), follow=True)
    client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": "New-secret-42!", "password2": "New-secret-42!"},
    )
    user.refresh_from_db()
    assert user.check_password("New-secret-42!")


def test_login_with_a_recovery_code(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = verified_customer()
    TOTP.activate(user, generate_totp_secret())
    codes = RecoveryCodes.activate(user).get_unused_codes()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert client.get("/account/").status_code == 200
    client.logout()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": codes[0]})  # used up
    assert client.get("/account/").status_code == 302
