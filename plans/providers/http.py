"""HTTP to real upstreams: timeouts, error mapping, cached tokens and a ``ProviderCall`` per call.

Errors map onto the provider interface: a timeout, connection error, 429 or 5xx is transient
(``UpstreamTimeout`` when the request may have reached the upstream), 401 is ``Unauthorized``
(``call_with_token`` refreshes an OAuth token once, for every adapter), other 4xx are permanent.
Query strings and bodies are never logged: they can hold credentials and personal data.
"""

import time
from collections.abc import Callable

import requests
from django.core.cache import cache
from django.utils import timezone

from plans.models import ProviderCall
from plans.providers.base import PermanentProviderError, ProviderError, TransientProviderError

DEFAULT_TIMEOUT = (5, 30)  # seconds: connect, read
Outcome = ProviderCall.Outcome


class UpstreamTimeout(TransientProviderError):
    """No answer in time: the upstream may have accepted the request. Look it up before retrying."""


class Unauthorized(PermanentProviderError):
    """401: the token is missing, expired or revoked."""


class BadResponse(TransientProviderError):
    """A 2xx answer we cannot read (not JSON, or missing what the contract promises)."""


class UpstreamHttp:
    """Calls to one upstream's base URL over a shared session."""

    def __init__(self, provider, base_url: str, *, timeout=DEFAULT_TIMEOUT):
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        reference: str = "",
        log_path: str = "",
        **kwargs,
    ) -> requests.Response:
        """Send one request; the 2xx response, or the mapped ProviderError.

        ``log_path`` replaces ``path`` in the call log when the path holds personal data.
        """
        started_at, clock = timezone.now(), time.monotonic()
        status_code, error = None, None
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
            status_code = response.status_code
            error = _status_error(response)
            if error is not None:
                error.response = response  # see error_body
        except requests.Timeout:
            error = UpstreamTimeout(f"{operation}: no answer within {self.timeout[1]} s")
        except requests.RequestException as exc:
            error = TransientProviderError(f"{operation}: {type(exc).__name__}")
        call = ProviderCall.objects.create(
            provider=self.provider,
            operation=operation,
            method=method.upper(),
            path=(log_path or path).split("?", 1)[0][:300],
            reference=reference[:100],
            status_code=status_code,
            outcome=_outcome(error),
            latency_ms=int((time.monotonic() - clock) * 1000),
            error=error.summary[:500] if error else "",
            started_at=started_at,
        )
        if error is not None:
            if error.summary and not error.summary.startswith(operation):
                error.summary = f"{operation}: {error.summary}"
            raise error
        response.provider_call_id = call.pk
        return response

    def call_with_token(
        self,
        method: str,
        path: str,
        *,
        fetch_token: Callable[[], tuple[str, int]],
        headers: dict | None = None,
        **kwargs,
    ) -> requests.Response:
        """``call`` with the provider's cached bearer token (``cached_token(fetch_token)``).

        A 401 means the upstream refused the request before doing anything, so the token is
        forgotten, fetched again and the call sent once more; a second 401 is raised. Every other
        error (429 with ``retry_after``, 5xx, timeouts) reaches the caller as is.
        """
        for attempt in (1, 2):
            token = cached_token(self.provider, fetch_token)
            authorized = {**(headers or {}), "Authorization": f"Bearer {token}"}
            try:
                return self.call(method, path, headers=authorized, **kwargs)
            except Unauthorized:
                forget_token(self.provider)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def error_body(error: ProviderError) -> dict:
    """The JSON object an upstream sent with its error status ({} if none or not JSON)."""
    response = getattr(error, "response", None)
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def mark_failed(response: requests.Response, error: ProviderError) -> None:
    """Record on ``response``'s call-log row that its 2xx answer carried ``error``."""
    ProviderCall.objects.filter(pk=response.provider_call_id).update(
        outcome=_outcome(error), error=error.summary[:500]
    )


def json_body(response: requests.Response, operation: str):
    """The response's JSON body; BadResponse if it is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        raise BadResponse(f"{operation}: the answer is not JSON") from exc


def cached_token(provider, fetch: Callable[[], tuple[str, int]]) -> str:
    """The provider's access token from the cache, else ``fetch()`` → (token, lifetime seconds)."""
    key = _token_key(provider)
    token = cache.get(key)
    if token is None:
        token, lifetime = fetch()
        cache.set(key, token, timeout=max(int(lifetime) - 60, 1))  # refresh a minute early
    return token


def forget_token(provider) -> None:
    """Drop the cached token (after a 401)."""
    cache.delete(_token_key(provider))


def _token_key(provider) -> str:
    return f"provider-token:{provider.pk}:{provider.adapter}"


def _status_error(response: requests.Response):
    status = response.status_code
    if status < 400:
        return None
    detail = f"HTTP {status}: {_message(response)}".strip(": ")
    if status == 401:
        return Unauthorized(detail)
    if status == 429:
        return TransientProviderError(detail, retry_after=_retry_after(response))
    if status >= 500 or status == 408:
        return TransientProviderError(detail)
    return PermanentProviderError(detail)


def _message(response: requests.Response) -> str:
    """A short message from an error body (JSON ``message``/``error``), else its first bytes."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("message", "errorMsg", "error_description", "error", "meta"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value:
                return value[:200]
    return str(body)[:200]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _outcome(error) -> str:
    if error is None:
        return Outcome.OK
    return Outcome.TRANSIENT if isinstance(error, TransientProviderError) else Outcome.PERMANENT
