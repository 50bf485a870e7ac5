"""The partner API's routes, read from the URLconf: what the contract suite runs against."""

import re
from dataclasses import dataclass
from functools import cache

from django.urls import URLResolver, get_resolver, reverse
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin
from rest_framework.parsers import MultiPartParser
from rest_framework.settings import api_settings

API_ROOT = "api/v1/"
# Routes under the API root that anyone may read: the OpenAPI schema and its docs page.
OPEN_ROUTES = {"api-schema", "api-docs"}
KWARG = re.compile(r"<(?:\w+:)?(\w+)>")
PROBED = ["get", "post", "patch", "put", "delete"]


@dataclass(frozen=True)
class Route:
    """One URL pattern of the API and its DRF view class."""

    name: str
    template: str
    view: type

    @property
    def kwargs(self) -> tuple[str, ...]:
        return tuple(KWARG.findall(self.template))

    @property
    def methods(self) -> list[str]:
        """The methods the view answers, in PROBED order (``head``/``options`` left out)."""
        return [m for m in PROBED if m in self.view.http_method_names and hasattr(self.view, m)]

    @property
    def method(self) -> str:
        """The method the contract probes the route with: GET when it has one."""
        return self.methods[0]

    @property
    def unknown_method(self) -> str:
        return next(m for m in PROBED if m not in self.methods)

    @property
    def format(self) -> str:
        multipart = any(issubclass(p, MultiPartParser) for p in self.view.parser_classes)
        return "multipart" if multipart else "json"

    @property
    def is_list(self) -> bool:
        return issubclass(self.view, ListModelMixin)

    @property
    def is_detail(self) -> bool:
        return issubclass(self.view, RetrieveModelMixin)

    @property
    def is_scoped(self) -> bool:
        """Whether its rows are the calling partner's (the catalog's are every partner's)."""
        return not getattr(self.view, "public_to_partners", False)

    @property
    def uses_api_keys(self) -> bool:
        keys = set(api_settings.DEFAULT_AUTHENTICATION_CLASSES)
        return bool(keys & set(self.view.authentication_classes))

    def url(self, kwargs: dict | None = None) -> str:
        """Its URL with those of ``kwargs`` it takes (any value when none are given)."""
        kwargs = kwargs or {}
        return reverse(self.name, kwargs={name: kwargs.get(name, "1") for name in self.kwargs})

    def __str__(self):
        return self.name


def _walk(patterns, prefix=""):
    for pattern in patterns:
        template = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, template)
        else:
            yield template, pattern


@cache
def api_routes() -> tuple[Route, ...]:
    """Every DRF view under the API root (function views such as the JSON 404 are not)."""
    return tuple(
        Route(pattern.name, template, pattern.callback.cls)
        for template, pattern in _walk(get_resolver().url_patterns)
        if template.startswith(API_ROOT) and hasattr(pattern.callback, "cls")
    )


def partner_routes() -> tuple[Route, ...]:
    """The routes a partner calls with an API key."""
    return tuple(route for route in api_routes() if route.uses_api_keys)


def view_of(name: str) -> type:
    return next(route.view for route in api_routes() if route.name == name)
