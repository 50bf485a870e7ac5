"""``check --deploy`` in production: each single-machine default is reported with its own id.

Several web and worker hosts must share the database, the broker, the cache, the sessions and
the uploads, and send real email. docs/deploy.md, *What check --deploy refuses*, lists them.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore as CacheStore
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.contrib.sessions.backends.file import SessionStore as FileStore
from django.core.checks import Error, Warning, register
from django.core.files.storage import FileSystemStorage
from django.utils.module_loading import import_string

PRINTING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "prints every email into the log",
    "django.core.mail.backends.filebased.EmailBackend": "writes every email to a local file",
    "django.core.mail.backends.locmem.EmailBackend": "keeps every email in memory",
    "django.core.mail.backends.dummy.EmailBackend": "drops every email",
    "portal.mail.UnconfiguredEmailBackend": "refuses every email: EMAIL_URL is not set",
}
PER_MACHINE_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.dummy.DummyCache",
}
SOCKET_SCHEMES = {"redis+socket", "unix", "socket"}


def production_deploy_check(check):
    """Register ``check`` for ``check --deploy``; it reports only in production mode."""

    def run(app_configs=None, **kwargs):
        return check() if settings.PRODUCTION else []

    run.__name__ = run.__qualname__ = check.__name__
    run.__doc__ = check.__doc__
    return register(deploy=True)(run)


@production_deploy_check
def email_backend():
    """portal.E020: email printed, kept on this machine, dropped, or not configured."""
    what = PRINTING_EMAIL_BACKENDS.get(settings.EMAIL_BACKEND)
    if not what:
        return []
    return [
        Error(
            f"Email backend {settings.EMAIL_BACKEND} {what}; customers get no activation codes.",
            hint="Set EMAIL_URL to your SMTP relay, e.g. smtp+tls://user:password@host:587.",
            id="portal.E020",
        )
    ]


@production_deploy_check
def local_media():
    """portal.E021: uploads on this machine's disk, unless ALLOW_LOCAL_MEDIA says it is shared."""
    backend = settings.STORAGES["default"]["BACKEND"]
    if settings.ALLOW_LOCAL_MEDIA or not issubclass(import_string(backend), FileSystemStorage):
        return []
    return [
        Error(
            f"Uploads (identity documents) are stored in {settings.MEDIA_ROOT} on this machine; "
            "other web and worker hosts cannot read them.",
            hint="Set AWS_STORAGE_BUCKET_NAME (and the S3 credentials), or on a single host "
            "with MEDIA_ROOT on a shared volume set ALLOW_LOCAL_MEDIA=true.",
            id="portal.E021",
        )
    ]


def _broker_urls() -> dict[str, str]:
    return {
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "REDBEAT_REDIS_URL": settings.CELERY_REDBEAT_REDIS_URL,
    }


@production_deploy_check
def embedded_broker():
    """portal.E022: the broker, results or beat lock on the embedded Redis socket."""
    on_socket = [name for name, url in _broker_urls().items() if _is_socket(url)]
    if not on_socket:
        return []
    return [
        Error(
            f"{', '.join(on_socket)} use the embedded Redis on a local socket; tasks sent on one "
            "host never reach the workers of another.",
            hint="Set REDIS_URL to your Redis server, e.g. redis://redis.internal:6379.",
            id="portal.E022",
        )
    ]


@production_deploy_check
def local_services():
    """portal.W023: a service on localhost, unless ALLOW_LOCAL_SERVICES says this is one host."""
    if settings.ALLOW_LOCAL_SERVICES:
        return []
    local = [name for name, url in _service_urls().items() if _is_local(url)]
    if not local:
        return []
    return [
        Warning(
            f"{', '.join(local)} point to this machine; another host would reach its own "
            "services there, not these.",
            hint="Use addresses every host reaches, or on a single host set "
            "ALLOW_LOCAL_SERVICES=true.",
            id="portal.W023",
        )
    ]


def _service_urls() -> dict[str, str]:
    urls = {name: url for name, url in _broker_urls().items() if not _is_socket(url)}
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        urls["DATABASE_URL"] = f"db://{database.get('HOST') or 'localhost'}"
    for alias, cache in settings.CACHES.items():
        if cache["BACKEND"] not in PER_MACHINE_CACHES:
            locations = cache.get("LOCATION") or []
            for location in [locations] if isinstance(locations, str) else locations:
                urls[f"CACHES[{alias!r}]"] = location
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        urls["EMAIL_URL"] = f"smtp://{settings.EMAIL_HOST}"
    return urls


def _is_socket(url: str) -> bool:
    return urlsplit(url).scheme in SOCKET_SCHEMES


def _is_local(url: str) -> bool:
    if "://" not in url or _is_socket(url):
        return True
    host = urlsplit(url).hostname or ""
    if host in {"", "localhost"} or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@production_deploy_check
def sqlite_database():
    """portal.E024: the database is a SQLite file on this machine."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return []
    return [
        Error(
            "The database is a SQLite file on this machine.",
            hint="Set DATABASE_URL to PostgreSQL, e.g. postgres://portal:password@db:5432/portal.",
            id="portal.E024",
        )
    ]


@production_deploy_check
def per_machine_cache():
    """portal.E025: a cache each process or machine keeps for itself."""
    per_machine = [
        f"{alias} ({cache['BACKEND'].rsplit('.', 1)[-1]})"
        for alias, cache in settings.CACHES.items()
        if cache["BACKEND"] in PER_MACHINE_CACHES
    ]
    if not per_machine:
        return []
    return [
        Error(
            f"Cache {', '.join(per_machine)} is not shared between processes: rate limits, "
            "login throttling, upstream order markers and catalog imports would differ per "
            "process.",
            hint="Set REDIS_URL (the cache uses its database 2) or CACHE_URL=redis://….",
            id="portal.E025",
        )
    ]


@production_deploy_check
def per_machine_sessions():
    """portal.E026: sessions kept in files or in a per-machine cache."""
    engine = settings.SESSION_ENGINE
    store = import_string(f"{engine}.SessionStore")
    if issubclass(store, FileStore):
        where = "files on this machine"
    elif issubclass(store, (CacheStore, CachedDbStore)):
        cache = settings.CACHES[settings.SESSION_CACHE_ALIAS]["BACKEND"]
        if cache not in PER_MACHINE_CACHES:
            return []
        where = f"the per-machine cache {cache.rsplit('.', 1)[-1]}"
    else:
        return []
    return [
        Error(
            f"Sessions ({engine}) are kept in {where}: a user signed in on one web host is "
            "unknown (or signed out late) on another.",
            hint="Use the database sessions (the default) or a Redis cache.",
            id="portal.E026",
        )
    ]


@production_deploy_check
def test_payment_gateway():
    """portal.W027: the built-in test gateway takes payments (ALLOW_TEST_PAYMENTS, staging)."""
    if settings.PAYMENT_GATEWAY != "test":
        return []
    return [
        Warning(
            "The built-in test payment gateway takes payments: nothing is charged (staging only).",
            hint="Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, and remove ALLOW_TEST_PAYMENTS.",
            id="portal.W027",
        )
    ]


@production_deploy_check
def console_sms():
    """portal.W029: SMS reminders are only logged."""
    if settings.SMS_BACKEND != "console":
        return []
    return [
        Warning(
            "SMS reminders are written to the log, never sent.",
            hint="Set SMS_BACKEND=twilio with TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_FROM.",
            id="portal.W029",
        )
    ]
