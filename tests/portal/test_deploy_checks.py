"""check --deploy in production: the checks an environment variable cannot show (tests/portal/
test_settings.py runs the real command for the others)."""

import pytest

from plans.models import Provider
from portal.checks import deployment, providers

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"}}


def ids(messages):
    return [message.id for message in messages]


@pytest.mark.parametrize(
    ("engine", "caches", "reported"),
    [
        ("django.contrib.sessions.backends.db", LOCMEM, []),
        ("django.contrib.sessions.backends.signed_cookies", LOCMEM, []),
        ("django.contrib.sessions.backends.file", REDIS, ["portal.E026"]),
        ("django.contrib.sessions.backends.cache", LOCMEM, ["portal.E026"]),
        ("django.contrib.sessions.backends.cached_db", LOCMEM, ["portal.E026"]),
        ("django.contrib.sessions.backends.cache", REDIS, []),
        ("core.sessions", LOCMEM, ["portal.E026"]),
        ("core.sessions", REDIS, []),
    ],
)
def test_sessions_kept_per_machine_are_reported(settings, engine, caches, reported):
    settings.PRODUCTION = True
    settings.SESSION_ENGINE = engine
    settings.CACHES = caches
    assert ids(deployment.per_machine_sessions(None)) == reported


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    ],
)
def test_printing_or_local_email_is_reported(settings, backend):
    settings.PRODUCTION = True
    settings.EMAIL_BACKEND = backend
    assert ids(deployment.email_backend(None)) == ["portal.E020"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert deployment.email_backend(None) == []


def test_nothing_is_reported_in_embedded_mode(settings):
    settings.PRODUCTION = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.file"
    assert deployment.email_backend(None) == deployment.per_machine_sessions(None) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("gateway", "reported"), [("stripe", "portal.E028"), ("test", "portal.W028")]
)
def test_an_active_sandbox_provider_is_reported(settings, gateway, reported):
    settings.PRODUCTION = True
    settings.PAYMENT_GATEWAY = gateway
    sandbox = Provider.objects.create(name="Sandbox", adapter=Provider.Adapter.SANDBOX)
    assert ids(providers.sandbox_provider(None)) == [reported]
    sandbox.is_active = False
    sandbox.save()
    assert providers.sandbox_provider(None) == []


def test_unconfigured_email_refuses_to_send_rather_than_print(settings, capsys):
    from django.core.exceptions import ImproperlyConfigured
    from django.core.mail import send_mail

    settings.EMAIL_BACKEND = "portal.mail.UnconfiguredEmailBackend"
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        send_mail("Your code", "123456", "a@example.com", ["b@example.com"])
    assert "123456" not in capsys.readouterr().out
