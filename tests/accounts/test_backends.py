"""The sign-in backends (accounts.backends): the session's user read by a query compiled once,
with Django's checks kept, and sessions signed in before the backends moved still signed in."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import User
from core.sessions import SessionStore
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def cached_sessions(settings):
    settings.SESSION_ENGINE = "core.sessions"


def signed_in_through_the_site(client) -> User:
    user = CustomerFactory()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return user


def test_a_site_sign_in_keeps_its_backend_and_reads_the_user_without_compiling(
    client, compilations
):
    signed_in_through_the_site(client)
    assert client.session[BACKEND_SESSION_KEY].startswith("accounts.backends.")
    client.get(reverse("sims:list"))
    compilations.clear()
    assert client.get(reverse("sims:list")).status_code == 200
    assert User not in compilations


def test_a_user_made_inactive_is_signed_out_on_the_next_request(client):
    user = signed_in_through_the_site(client)
    assert client.get(reverse("sims:list")).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(reverse("sims:list"))
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_a_deleted_user_is_signed_out(client):
    user = signed_in_through_the_site(client)
    user.delete()
    assert client.get(reverse("sims:list")).status_code == 302


def test_a_password_changed_elsewhere_signs_the_session_out(client):
    user = signed_in_through_the_site(client)
    user.set_password("another long pass phrase")
    user.save()
    assert client.get(reverse("sims:list")).status_code == 302


@pytest.mark.parametrize(
    "old_path",
    [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ],
)
def test_a_session_signed_in_through_a_backend_s_old_path_stays_signed_in(
    cached_sessions, old_path
):
    user = CustomerFactory()
    store = SessionStore()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: old_path,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    store.create()
    client = Client()
    client.cookies["sessionid"] = store.session_key
    assert client.get(reverse("sims:list")).status_code == 200
    assert Session.objects.filter(session_key=store.session_key).exists()


def test_a_session_naming_an_unknown_backend_is_signed_out(cached_sessions):
    user = CustomerFactory()
    store = SessionStore()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "somewhere.else.Backend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    store.create()
    client = Client()
    client.cookies["sessionid"] = store.session_key
    assert client.get(reverse("sims:list")).status_code == 302
