"""``/metrics`` for Prometheus, and the request latency it reports.

``MetricsMiddleware`` comes right after the health probes, before the host check and the HTTPS
redirect: Prometheus scrapes each pod by its address over plain HTTP. The endpoint still needs
``Authorization: Bearer <METRICS_TOKEN>`` (401 without it or with a wrong one). With no token
configured it does not exist (404), except in embedded mode for a scraper on this machine.

Under gunicorn every worker process writes its timings to files in ``PROMETHEUS_MULTIPROC_DIR``
(deploy/gunicorn.conf.py) and a scrape adds up every process's; without it (``runserver``), each
process reports its own.
"""

import hmac
import os
import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)

from portal.metrics.collector import PortalCollector

METRICS_PATH = "/metrics"
LOOPBACK = {"127.0.0.1", "::1"}
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"

REQUEST_DURATION = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer a request, by method, route and status class.",
    ["method", "route", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)


def route_of(request) -> str:
    """The URL pattern's name (or its route when unnamed): few values, whatever the path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name if match.url_name else match.route


def observe(request, response, seconds: float) -> None:
    """Record one answered request."""
    method = request.method if request.method in METHODS else "other"
    status = f"{response.status_code // 100}xx"
    REQUEST_DURATION.labels(method, route_of(request), status).observe(seconds)


def refusal(request) -> int | None:
    """The status refusing this scrape (404: no endpoint; 401: wrong token), or None."""
    token = settings.METRICS_TOKEN
    if not token:
        on_this_machine = request.META.get("REMOTE_ADDR") in LOOPBACK
        return None if on_this_machine and not settings.PRODUCTION else 404
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), token.encode()
    ):
        return 401
    return None


def registry() -> CollectorRegistry:
    """Every metric of this scrape: request timings of every process, figures read now."""
    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(scrape)
    else:
        scrape.register(REQUEST_DURATION)
    scrape.register(PortalCollector())
    return scrape


@never_cache
def metrics(request):
    """The Prometheus text exposition, for a scraper with the token."""
    status = refusal(request)
    if status == 401:
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if status:
        return HttpResponse("Not found\n", status=status, content_type="text/plain")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Answer ``/metrics`` before the host check and HTTPS redirect; time every other request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") == METRICS_PATH:
            return metrics(request)
        started = time.perf_counter()
        response = self.get_response(request)
        observe(request, response, time.perf_counter() - started)
        return response
