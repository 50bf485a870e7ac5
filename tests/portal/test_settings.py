"""Settings load in both modes; production mode passes the deploy check and refuses weak setups."""

import secrets

import pytest

from tests.processes import clean_env, manage

STRONG_KEY = secrets.token_urlsafe(64)


def production_env(tmp_path, **overrides):
    values = {
        "PORTAL_MODE": "production",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "portal.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STRIPE_SECRET_KEY": "sk_test_123",
        "STRIPE_WEBHOOK_SECRET": "whsec_123",
        "IDENTITY_DOCUMENT_KEYS": secrets.token_urlsafe(32) + "=",  # a Fernet key
    }
    values.update(overrides)
    return clean_env(tmp_path, **{k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize("source", ["environment", "generated file"])
def test_a_secret_key_starting_with_a_dollar_sign_is_used_as_it_is(tmp_path, source):
    key = "$" + "k" * 60  # a generated key may start with "$" (django-environ's reference sign)
    env = clean_env(tmp_path)
    if source == "environment":
        env["SECRET_KEY"] = key
    else:
        (tmp_path / "secret_key").write_text(key)
        (tmp_path / "secret_key").chmod(0o600)
    shown = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.SECRET_KEY, s.API_KEY_PEPPER)",
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [key, key]


def test_embedded_mode_loads_with_nothing_set_and_keeps_a_private_dev_key(tmp_path):
    result = manage("check", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "secret_key"
    assert len(key_file.read_text()) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    shown = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
        "s.PAYMENT_GATEWAY, s.CELERY_BROKER_URL.split(':')[0], s.TIME_ZONE, "
        "[c for c, _ in s.LANGUAGES], s.SECRET_KEY == open(s.DEV_SECRET_KEY_FILE).read())",
        env=clean_env(tmp_path),
    )
    assert shown.stdout.split() == [
        "django.db.backends.sqlite3",
        "test",
        "redis+socket",
        "Asia/Karachi",
        "['zh-hans',",
        "'en']",
        "True",
    ]


def test_production_mode_passes_the_deploy_check(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_uses_s3_storage_when_a_bucket_is_configured(tmp_path):
    env = production_env(tmp_path, AWS_STORAGE_BUCKET_NAME="documents")
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; "
        "print(s.STORAGES['default']['BACKEND'], s.AWS_DEFAULT_ACL)",
        env=env,
    )
    assert result.stdout.split() == ["storages.backends.s3.S3Storage", "private"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + STRONG_KEY}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"DEBUG": "1"}, "DEBUG"),
        ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET"),
        ({"PORTAL_MODE": "staging"}, "PORTAL_MODE"),
        ({"IDENTITY_DOCUMENT_KEYS": None}, "IDENTITY_DOCUMENT_KEYS"),
    ],
)
def test_production_mode_refuses_unsafe_settings(tmp_path, overrides, message):
    result = manage("check", env=production_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_refuses_the_generated_development_key(tmp_path):
    manage("check", env=clean_env(tmp_path))
    dev_key = (tmp_path / "secret_key").read_text()
    result = manage("check", env=production_env(tmp_path, SECRET_KEY=dev_key))
    assert result.returncode != 0
    assert "development SECRET_KEY" in result.stderr
