import importlib
import os

import pytest
import time_machine
from django.conf import settings
from django.utils import translation

from core import breaker
from portal.celery import app as celery_app
from tests.clock import EVENING_BEFORE_NEW_YEAR, LAST_DAY_LATE_EVENING

pytest_plugins = [
    "tests.fixtures.people",
    "tests.fixtures.posting",
    "tests.fixtures.queries",
    "tests.fixtures.storage",
]

SERVICES_REQUIRED = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"


REDIS_DATABASES_PER_WORKER = 3  # the Celery broker, its results, the cache
PROCESS_TESTS_GROUP = "processes"


def pytest_configure(config):
    """Under pytest-xdist, each worker has its own Redis databases (PostgreSQL: pytest-django)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and os.environ.get("REDIS_URL"):
        _use_own_redis_databases(int(worker[2:]) * REDIS_DATABASES_PER_WORKER)


def _use_own_redis_databases(first: int) -> None:
    """Move the broker, results and cache to Redis databases ``first`` … ``first + 2``.

    Settings are loaded before any conftest, so the new URLs go to the settings (the cache handler
    is reset through ``override_settings``), the Celery app and the environment that worker and
    server processes started by tests inherit.
    """
    from django.test.utils import override_settings

    base = os.environ["REDIS_URL"]
    urls = {
        "CELERY_BROKER_URL": f"{base}/{first}",
        "CELERY_RESULT_BACKEND": f"{base}/{first + 1}",
        "CACHE_URL": f"{base}/{first + 2}",
    }
    os.environ.update(urls)
    caches = {"default": {**settings.CACHES["default"], "LOCATION": urls["CACHE_URL"]}}
    override_settings(
        CELERY_BROKER_URL=urls["CELERY_BROKER_URL"],
        CELERY_RESULT_BACKEND=urls["CELERY_RESULT_BACKEND"],
        CACHES=caches,
    ).enable()
    celery_app.conf.update(
        broker_url=urls["CELERY_BROKER_URL"],
        result_backend=urls["CELERY_RESULT_BACKEND"],
        redbeat_redis_url=urls["CELERY_BROKER_URL"],
    )


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests that start real processes run one at a time on one xdist worker (``--dist loadgroup``).

    They time real workers, servers and browsers: two at once on two cores would starve both.
    Their processes run on the machine's clock, so these tests keep it too (``real_clock``).
    """
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group(PROCESS_TESTS_GROUP))
            item.add_marker(pytest.mark.real_clock)


def pytest_sessionstart(session):
    """Under the real-services harness, refuse to run silently on anything else."""
    if SERVICES_REQUIRED:
        engine = settings.DATABASES["default"]["ENGINE"]
        assert engine == "core.postgresql", f"expected PostgreSQL, got {engine}"
        assert os.environ.get("REDIS_URL"), "REDIS_URL is not set"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts and ends with an empty cache (rate limits, tokens, used TOTP codes).

    Rate-limit counters and provider tokens are keyed by ids that the next test may reuse.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _closed_breakers():
    """A service a test cut off is not refused to the next test (``core.breaker``)."""
    yield
    breaker.close_all()


@pytest.fixture(autouse=True)
def _default_language():
    """A language a view or a test activated does not carry over to the next test."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _eager_tasks():
    """In-process tests run tasks eagerly; worker tests turn this off (see ``real_broker``)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _late_evening_on_a_months_last_day(request):
    """Every test starts at 23:30 in Karachi on 31 August (18:30 UTC), the clock ticking.

    A test that takes a UTC date for the site's date, or adds a month by hand, fails on every run.
    Tests whose other processes or clocks cannot be moved (workers, servers, browsers, Redis TTLs)
    are marked ``real_clock``; fixtures that travel further (``evening_before_new_year``) win.
    """
    if request.node.get_closest_marker("real_clock"):
        yield
        return
    with time_machine.travel(LAST_DAY_LATE_EVENING, tick=True):
        yield


@pytest.fixture
def evening_before_new_year(time_machine):
    """Run at 21:30 UTC on 31 December, already the new year in Karachi, the clock ticking.

    Date-heavy modules use it, so a UTC date compared with a page fails on every run.
    """
    time_machine.move_to(EVENING_BEFORE_NEW_YEAR, tick=True)


@pytest.fixture
def real_broker():
    """Send tasks to the real broker for this test instead of running them eagerly."""
    if not os.environ.get("REDIS_URL"):
        pytest.fail("This test needs the real Redis: run it through scripts/test.")
    celery_app.conf.task_always_eager = False
    return celery_app


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "testserver"}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never reach the network: only loopback (live server, PostgreSQL, Redis) is open."""
    import socket

    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOCAL_HOSTS and not str(host).startswith("127."):
            raise socket.gaierror(f"network access blocked in tests: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        if (
            isinstance(address, tuple)
            and address[0] not in LOCAL_HOSTS
            and not str(address[0]).startswith("127.")
        ):
            raise OSError(f"network access blocked in tests: {address[0]}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


PUBLIC_TEST_ADDRESS = "93.184.216.34"  # globally routable; never reached (network is blocked)


@pytest.fixture(autouse=True)
def _webhook_hosts_resolve_publicly(monkeypatch):
    """Webhook host names resolve to a public address (IP literals to themselves).

    Outgoing webhooks resolve their host before sending (``orders.partner_webhooks.transport``);
    tests about that replace ``resolve`` again. The POST itself is still caught by ``responses``.
    """
    import ipaddress

    from orders.partner_webhooks import transport as webhook_transport

    def resolve(host, port):
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return [PUBLIC_TEST_ADDRESS]

    monkeypatch.setattr(webhook_transport, "resolve", resolve)


@pytest.fixture(autouse=True)
def _every_email_has_text_and_the_brand():
    """Every email a test sends has a non-empty text/plain part (beside any HTML) and is sent
    under the brand's name (``core.brand.sender``)."""
    from email.utils import parseaddr

    from django.core import mail

    from core.brand import bilingual_brand_name

    yield
    brands = {*settings.PORTAL_BRAND.values(), bilingual_brand_name()}
    for message in getattr(mail, "outbox", []):
        plain = [
            part
            for part in message.message().walk()
            if part.get_content_type() == "text/plain" and part.get_payload(decode=True).strip()
        ]
        assert plain, f"no text/plain part: {message.subject}"
        assert parseaddr(message.from_email)[0] in brands, message.from_email


@pytest.fixture
def help_content(db):
    """The help articles and phones the migrations add: a transactional test that ran before on
    this worker emptied every table, the migrations' rows with them."""
    from django.apps import apps

    for module, add in (
        ("0002_first_articles", "add_articles"),
        ("0003_first_devices", "add_devices"),
    ):
        getattr(importlib.import_module(f"help.migrations.{module}"), add)(apps, None)
