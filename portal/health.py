"""Health probes for load balancers, compose and Kubernetes (docs/deploy.md, "Probes").

* ``/health/live``: the process answers. No database, no broker: a restart would not help them.
* ``/health/ready``: this process can serve pages. The database answers and has every migration
  of this release applied, the broker answers, the cache works (asked past the process's breaker,
  ``core.breaker``, so a cache back after an outage closes it), the static files manifest is
  loaded (production) and the file storage takes a write. Else 503 naming each failed check.
* ``/health/``: the old load-balancer check (the database answers), kept for existing setups.

``HealthProbeMiddleware`` answers the first two before any other middleware, so probes from
inside a cluster (by pod address, over plain HTTP) pass the host check and the HTTPS redirect.
"""

import logging
import uuid

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.cache import cache, caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

from core.cache import RedisCache

logger = logging.getLogger(__name__)

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
BROKER_TIMEOUT_SECONDS = 2.0


@never_cache
def health(request):
    """Liveness and database check for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@never_cache
def live(request):
    """200 whenever the process answers."""
    return JsonResponse({"status": "ok"})


def check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def check_migrations() -> str | None:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return f"unapplied migrations: {len(plan)}" if plan else None


def check_broker() -> str | None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    return None


def check_cache() -> str | None:
    shared = caches["default"]
    if isinstance(shared, RedisCache):
        shared.ping()  # past the breaker: a probe is how this process learns the cache is back
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", 10)
    answer = cache.get(key)
    cache.delete(key)
    return None if answer == "ok" else "cache did not keep a value"


def check_static_manifest() -> str | None:
    if isinstance(staticfiles_storage, ManifestFilesMixin) and not staticfiles_storage.hashed_files:
        return "static files manifest missing: run collectstatic"
    return None


def check_storage() -> str | None:
    name = default_storage.save(f"health-probe-{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)
    return None


READY_CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "broker": check_broker,
    "cache": check_cache,
    "static": check_static_manifest,
    "storage": check_storage,
}


def readiness() -> dict[str, str]:
    """Run every readiness check; the problem of each failed one by its name."""
    failed = {}
    for name, check in READY_CHECKS.items():
        try:
            problem = check()
        except Exception as exc:
            logger.warning("Readiness check %s failed: %r", name, exc)
            problem = f"{type(exc).__name__}"
        if problem:
            failed[name] = problem
    return failed


@never_cache
def ready(request):
    """200 when every readiness check passes, else 503 naming each failed one."""
    failed = readiness()
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok", "checks": sorted(READY_CHECKS)})


PROBES = {LIVE_PATH: live, READY_PATH: ready}


class HealthProbeMiddleware:
    """Answer the probes before the host check, the HTTPS redirect and every other middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info.rstrip("/"))
        if probe is None:
            return self.get_response(request)
        return probe(request)
