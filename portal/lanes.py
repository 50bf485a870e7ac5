"""The partner API's lane through the middleware: requests under ``/api/v1/`` (but its docs and
schema) skip what only the site and the admin use.

Partner API calls are authenticated by their API key (DRF, ``accounts.api``), never by a session
or a cookie, and DRF's views are exempt from CSRF: sessions, CSRF, Django's authentication,
messages, allauth and staff two-factor (``settings.SITE_ONLY_MIDDLEWARE``) only cost them time.
Some take a leaner middleware in place of the site's (``settings.PARTNER_API_MIDDLEWARE_INSTEAD``:
the language picked without looking for a language prefix in the path).
:class:`PartnerApiLane` sits after the middleware every request needs (probes, request id,
metrics, security) and sends a partner API request through its own chain of the middleware
listed after it, in the same order, without the site-only ones, to the view;
:class:`PartnerApiLaneEnd`, last in ``MIDDLEWARE``, is where that chain joins the view. Every
other request takes the whole chain, unchanged.

Django's ``process_view`` and ``process_exception`` hooks run for every request: CSRF's finds
the API's views exempt (a view under the lane that is not would be refused, never let through).
"""

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

PARTNER_API_PREFIX = "/api/v1/"
SITE_PATHS_UNDER_API = ("/api/v1/docs/", "/api/v1/schema/")  # pages a browser opens
LANE = "portal.lanes.PartnerApiLane"
LANE_END = "portal.lanes.PartnerApiLaneEnd"

_built = threading.local()  # the view's handler, from the lane's end to its start


def is_partner_api(path: str) -> bool:
    """Whether ``path`` (a request's ``path_info``) is a partner API call."""
    return path.startswith(PARTNER_API_PREFIX) and not path.startswith(SITE_PATHS_UNDER_API)


def lane_middleware() -> list[str]:
    """The middleware a partner API request passes through after the lane, in order."""
    middleware = list(settings.MIDDLEWARE)
    if LANE not in middleware or middleware[-1] != LANE_END:
        raise ImproperlyConfigured(f"MIDDLEWARE needs {LANE} and, last, {LANE_END}.")
    after = middleware[middleware.index(LANE) + 1 : -1]
    instead = settings.PARTNER_API_MIDDLEWARE_INSTEAD
    return [instead.get(path, path) for path in after if path not in settings.SITE_ONLY_MIDDLEWARE]


class PartnerApiLaneEnd:
    """The end of the partner API's lane: hands the view's handler to the lane; passes through."""

    def __init__(self, get_response):
        self.get_response = get_response
        _built.view = get_response  # Django builds the chain from its end

    def __call__(self, request):
        return self.get_response(request)


class PartnerApiLane:
    """Partner API requests through the lean chain; every other request through the whole one."""

    def __init__(self, get_response):
        self.get_response = get_response
        view = getattr(_built, "view", None)
        if view is None:
            raise ImproperlyConfigured(f"{LANE_END} must be last in MIDDLEWARE.")
        del _built.view
        handler = view
        for path in reversed(lane_middleware()):
            try:
                handler = convert_exception_to_response(import_string(path)(handler))
            except MiddlewareNotUsed:
                continue
        self.lane = handler

    def __call__(self, request):
        if is_partner_api(request.path_info):
            return self.lane(request)
        return self.get_response(request)
