"""Inbound webhooks from upstream providers (usage, low data, expiry).

Each adapter verifies and reads its own webhook (``parse_callback``); here the event is recorded
once by id in ``WebhookEvent`` (source "provider", id prefixed with the provider's id so upstreams
cannot collide), then its reading is applied like a sync reading. A reading older than the
stored one is ignored; an event without a reading is only recorded.
"""

import logging

from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.models import Sim, WebhookEvent
from orders.services.usage import apply_usage
from plans.models import Provider
from plans.providers import Capability, get_adapter
from plans.providers.base import CallbackError, CallbackEvent, PermanentProviderError

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def provider_callback(request, provider_id: int):
    """Receive a provider's webhook; 400 (and no change) unless genuine and well-formed."""
    provider = get_object_or_404(Provider, pk=provider_id, is_active=True)
    try:
        adapter = get_adapter(provider, needs=Capability.CALLBACKS)
        event = adapter.parse_callback(headers=request.headers, body=request.body)
    except PermanentProviderError as exc:
        raise Http404 from exc  # this upstream sends no webhooks, or is not built
    except CallbackError as exc:
        return JsonResponse({"error": exc.code, "detail": exc.detail}, status=400)
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                source=WebhookEvent.Source.PROVIDER,
                event_id=f"{provider.pk}:{event.event_id}"[:255],
                event_type=event.event_type[:100],
                payload=event.payload,
            )
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    outcome = _apply(provider, event)
    applied = outcome in {"applied", "recorded"}
    WebhookEvent.objects.filter(pk=record.pk).update(
        processed_at=timezone.now(),
        outcome=WebhookEvent.Outcome.APPLIED if applied else WebhookEvent.Outcome.IGNORED,
        error="" if applied else outcome,
    )
    return JsonResponse({"status": outcome})


def _apply(provider: Provider, event: CallbackEvent) -> str:
    if event.usage is None:
        return "recorded"
    sim = Sim.objects.filter(provider=provider, iccid=event.iccid).first()
    if sim is None:
        logger.warning("provider %s callback for an unknown ICCID", provider.pk)
        return "unknown_sim"
    if not apply_usage(sim, event.usage, actor_label=f"{provider.name} callback"):
        return "ignored"
    return "applied"
