"""Settings load in both modes; production mode passes the deploy check and refuses weak setups."""

import re
import secrets

import pytest

from tests.processes import clean_env, manage

STRONG_KEY = secrets.token_urlsafe(64)


# A multi-machine production: every service on other hosts (".invalid": never reached here).
MULTI_MACHINE = {
    "DATABASE_URL": "postgres://portal:password@db.invalid:5432/portal",
    "REDIS_URL": "redis://redis.invalid:6379",
    "AWS_STORAGE_BUCKET_NAME": "portal-private",
    "EMAIL_URL": "smtp+tls://portal:password@smtp.invalid:587",
    "SMS_BACKEND": "twilio",
}
# What a single machine would use instead (ALLOW_LOCAL_MEDIA: uploads on a shared volume).
ONE_HOST = {
    "DATABASE_URL": "postgres://portal:password@localhost:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379",
    "AWS_STORAGE_BUCKET_NAME": None,
    "ALLOW_LOCAL_MEDIA": "true",
    "EMAIL_URL": "smtp://localhost:25",
}


def production_env(tmp_path, **overrides):
    values = {
        "PORTAL_MODE": "production",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "portal.example.com",
        "STRIPE_SECRET_KEY": "sk_test_123",
        "STRIPE_WEBHOOK_SECRET": "whsec_123",
        "IDENTITY_DOCUMENT_KEYS": secrets.token_urlsafe(32) + "=",  # a Fernet key
        **MULTI_MACHINE,
    }
    values.update(overrides)
    env = clean_env(tmp_path)
    env.pop("CACHE_URL", None)  # this test worker's Redis (tests/conftest.py)
    for name, value in values.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def reported_ids(result) -> list[str]:
    return sorted(re.findall(r"\((\w+\.[EW]\d+)\)", result.stdout + result.stderr))


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
        "'zh-hant',",
        "'en']",
        "True",
    ]


def test_production_mode_passes_the_deploy_check(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


SINGLE_MACHINE_DEFAULTS = {
    **dict.fromkeys(MULTI_MACHINE),  # SQLite, embedded broker, local cache and media, no email
    **{"STRIPE_SECRET_KEY": None, "STRIPE_WEBHOOK_SECRET": None, "ALLOW_TEST_PAYMENTS": "1"},
}


@pytest.mark.parametrize(
    ("overrides", "reported"),
    [
        pytest.param(
            SINGLE_MACHINE_DEFAULTS,
            [
                *("portal.E020", "portal.E021", "portal.E022", "portal.E024", "portal.E025"),
                *("portal.W027", "portal.W029"),
            ],
            id="nothing-set",
        ),
        pytest.param({"EMAIL_URL": "filemail:///tmp/mail"}, ["portal.E020"], id="file-email"),
        pytest.param({"EMAIL_URL": "memorymail://"}, ["portal.E020"], id="memory-email"),
        pytest.param({"AWS_STORAGE_BUCKET_NAME": None}, ["portal.E021"], id="local-media"),
        pytest.param({"CACHE_URL": "filecache:///tmp/cache"}, ["portal.E025"], id="file-cache"),
        pytest.param(
            {"CELERY_BROKER_URL": "redis+socket:///tmp/redis.sock"}, ["portal.E022"], id="socket"
        ),
        pytest.param(ONE_HOST, ["portal.W023"], id="one-host"),
        pytest.param({**ONE_HOST, "ALLOW_LOCAL_SERVICES": "true"}, [], id="one-host-allowed"),
    ],
)
def test_the_deploy_check_reports_each_single_machine_setting(tmp_path, overrides, reported):
    env = production_env(tmp_path, **overrides)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert reported_ids(result) == reported, result.stdout + result.stderr
    assert (result.returncode == 0) == (not reported)


def test_the_local_services_warning_names_each_one(tmp_path):
    result = manage("check", "--deploy", env=production_env(tmp_path, **ONE_HOST))
    assert result.returncode == 0, result.stderr
    warning = result.stderr.split("portal.W023")[1].split("HINT")[0]
    for name in ("CELERY_BROKER_URL", "REDBEAT_REDIS_URL", "DATABASE_URL", "CACHES", "EMAIL_URL"):
        assert name in warning


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
        ({"EMAIL_URL": "consolemail://"}, "console email"),
        ({"LOCAL_WALLETS": "jazzcash"}, "JAZZCASH_MERCHANT_ID"),
        ({"LOCAL_WALLETS": "easypaisa", "EASYPAISA_STORE_ID": "1234"}, "EASYPAISA_HASH_KEY"),
        ({"LOCAL_WALLETS": "jazzpay"}, "unknown wallet"),
    ],
)
def test_production_mode_refuses_unsafe_settings(tmp_path, overrides, message):
    result = manage("check", env=production_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_runs_a_wallet_live_with_all_its_credentials(tmp_path):
    credentials = {
        "JAZZCASH_MERCHANT_ID": "MC12345",
        "JAZZCASH_PASSWORD": "password",
        "JAZZCASH_INTEGRITY_SALT": "salt",
    }
    env = production_env(tmp_path, LOCAL_WALLETS="jazzcash", **credentials)
    code = "from django.conf import settings as s; print(s.LOCAL_WALLETS)"
    result = manage("shell", "-v", "0", "-c", code, env=env)
    assert result.stdout.strip() == "{'jazzcash': 'live'}", result.stderr


def test_production_refuses_the_generated_development_key(tmp_path):
    manage("check", env=clean_env(tmp_path))
    dev_key = (tmp_path / "secret_key").read_text()
    result = manage("check", env=production_env(tmp_path, SECRET_KEY=dev_key))
    assert result.returncode != 0
    assert "development SECRET_KEY" in result.stderr


@pytest.mark.parametrize(("mode", "seconds"), [("production", "60"), ("embedded", "0")])
def test_production_keeps_database_connections_for_a_minute(tmp_path, mode, seconds):
    env = production_env(tmp_path) if mode == "production" else clean_env(tmp_path)
    env.pop("DATABASE_CONN_MAX_AGE", None)
    shown = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['CONN_MAX_AGE'])",
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == seconds
