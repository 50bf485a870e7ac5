"""Callbacks from upstream providers (the sandbox's ``usage.updated``).

Verified on the raw body with the provider's callback secret, recorded once by event id in
``WebhookEvent`` (source "provider", id prefixed with the provider's id so upstreams cannot
collide), then applied like a sync reading; a reading older than the stored one is ignored.
"""

import json
import logging

from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.models import Sim, WebhookEvent
from orders.payments import signing
from orders.payments.base import SignatureError
from orders.services.usage import SANDBOX_SIGNATURE_HEADER, apply_usage, callback_secret
from plans.models import Provider
from plans.providers.base import Usage

logger = logging.getLogger(__name__)

CALLBACK_ADAPTERS = {Provider.Adapter.SANDBOX}
USAGE_STATUSES = {"issued", "active", "expired", "cancelled"}


class BadCallback(ValueError):
    """A verified body that is not a usage callback we understand."""


@csrf_exempt
@require_POST
def provider_callback(request, provider_id: int):
    """Receive a provider's usage callback; 400 (and no change) unless signed and well-formed."""
    provider = get_object_or_404(Provider, pk=provider_id, is_active=True)
    if provider.adapter not in CALLBACK_ADAPTERS:
        raise Http404
    body = request.body
    try:
        signing.verify(
            body, request.headers.get(SANDBOX_SIGNATURE_HEADER), callback_secret(provider)
        )
        payload, usage = parse_usage_callback(body)
    except SignatureError as exc:
        return _bad_request("invalid_signature", str(exc))
    except BadCallback as exc:
        return _bad_request("invalid_callback", str(exc))
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                source=WebhookEvent.Source.PROVIDER,
                event_id=f"{provider.pk}:{payload['event_id']}",
                event_type=payload["type"],
                payload=payload,
            )
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    outcome = _apply(provider, payload["iccid"], usage)
    WebhookEvent.objects.filter(pk=event.pk).update(
        processed_at=timezone.now(), error="" if outcome == "applied" else outcome
    )
    return JsonResponse({"status": outcome})


def parse_usage_callback(body: bytes) -> tuple[dict, Usage]:
    """The payload and the reading it carries; BadCallback if malformed."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise BadCallback("Body is not JSON.") from exc
    if not isinstance(payload, dict) or payload.get("type") != "usage.updated":
        raise BadCallback("Not a usage.updated event.")
    event_id, iccid = payload.get("event_id"), payload.get("iccid")
    if not isinstance(event_id, str) or not event_id or not isinstance(iccid, str) or not iccid:
        raise BadCallback("event_id and iccid are required.")
    if payload.get("status") not in USAGE_STATUSES:
        raise BadCallback("Unknown status.")
    as_of = _datetime(payload.get("as_of"), "as_of")
    if as_of is None:
        raise BadCallback("as_of is required.")
    usage = Usage(
        data_total_mb=_megabytes(payload.get("data_total_mb"), "data_total_mb"),
        data_remaining_mb=_megabytes(payload.get("data_remaining_mb"), "data_remaining_mb"),
        expires_at=_datetime(payload.get("expires_at"), "expires_at"),
        status=payload["status"],
        as_of=as_of,
    )
    return payload, usage


def _apply(provider: Provider, iccid: str, usage: Usage) -> str:
    sim = Sim.objects.filter(provider=provider, iccid=iccid).first()
    if sim is None:
        logger.warning("provider %s callback for an unknown ICCID", provider.pk)
        return "unknown_sim"
    if not apply_usage(sim, usage, actor_label=f"{provider.name} callback"):
        return "ignored"
    return "applied"


def _megabytes(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadCallback(f"{name} must be a non-negative integer.")
    return value


def _datetime(value, name: str):
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        raise BadCallback(f"{name} must be an ISO 8601 time with a UTC offset.")
    return parsed


def _bad_request(code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=400)
