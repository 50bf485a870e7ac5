"""Two-factor is required for staff before any admin page."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.factories import UserFactory
from tests.staff import STAFF_TOTP_SECRET, login_staff, totp_code, with_totp

pytestmark = pytest.mark.django_db
PASSWORD = "Staff-pass-2026"


@pytest.fixture
def staff():
    user = UserFactory(is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_admin_login_form_sends_staff_to_the_site_login(client):
    response = client.get("/admin/login/?next=/admin/orders/order/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Forders%2Forder%2F"


def test_signed_out_admin_pages_lead_to_the_site_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_staff_without_an_authenticator_must_set_one_up_first(client, staff):
    client.force_login(staff)
    for path in ["/admin/", "/admin/orders/order/", reverse("admin:core_auditentry_changelist")]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_activate_totp") + "?next=")


def test_staff_with_an_authenticator_must_confirm_a_code_this_session(client, staff):
    with_totp(staff)
    client.force_login(staff)  # e.g. a session from before two-factor was set up
    response = client.get("/admin/orders/order/")
    assert response["Location"] == (
        reverse("mfa_reauthenticate") + "?next=%2Fadmin%2Forders%2Forder%2F"
    )
    response = client.post(
        response["Location"], {"code": totp_code(STAFF_TOTP_SECRET)}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/admin/orders/order/"
    assert response.status_code == 200


def test_a_wrong_code_keeps_the_admin_closed(client, staff):
    with_totp(staff)
    client.force_login(staff)
    client.post(reverse("mfa_reauthenticate"), {"code": "000000"})
    assert client.get("/admin/").status_code == 302


def test_password_and_code_sign_in_opens_the_admin(client, staff):
    with_totp(staff)
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": staff.email, "password": PASSWORD}
    )
    assert response["Location"].startswith(reverse("mfa_authenticate"))
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(STAFF_TOTP_SECRET)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db(transaction=True)  # the activation signal is sent on commit
def test_setting_up_the_app_opens_the_admin_without_a_second_code(client, staff):
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    response = client.get("/admin/orders/order/")
    assert response["Location"] == (
        reverse("mfa_activate_totp") + "?next=%2Fadmin%2Forders%2Forder%2F"
    )
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(response["Location"])
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)}, follow=True)
    assert response.redirect_chain == [("/admin/orders/order/", 302)]
    assert response.status_code == 200
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    codes_link = reverse("mfa_view_recovery_codes")
    assert f'href="{codes_link}"' in response.text  # the message links to the codes
    codes = client.get(codes_link)
    assert codes.status_code == 200
    unused = Authenticator.objects.get(user=staff, type=Authenticator.Type.RECOVERY_CODES)
    assert unused.wrap().get_unused_codes()[0] in codes.text


@pytest.mark.django_db(transaction=True)
def test_staff_setting_up_the_app_without_a_destination_land_on_the_admin_index(client, staff):
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response["Location"] == reverse("admin:index")


@pytest.mark.django_db(transaction=True)
def test_customers_setting_up_the_app_still_see_their_recovery_codes(client):
    customer = UserFactory()
    customer.set_password(PASSWORD)
    customer.save()
    EmailAddress.objects.create(user=customer, email=customer.email, verified=True, primary=True)
    client.post("/accounts/login/", {"login": customer.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response["Location"] == reverse("mfa_view_recovery_codes")


def test_customers_are_not_asked_and_cannot_enter(client):
    customer = UserFactory()
    client.force_login(customer)
    assert client.get("/admin/login/").status_code == 403
    assert client.get("/sims/").status_code == 200


def test_staff_with_two_factor_use_the_admin(client, staff):
    login_staff(client, staff)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/login/?next=/admin/orders/order/")["Location"] == (
        "/admin/orders/order/"
    )
