"""Idempotency-Key for every partner POST: one layer, one rule (ARCHITECTURE.md, rule 12).

- Same key + same request → the same answer: the first answer is stored and replayed (with
  ``Idempotent-Replayed: true``); nothing runs again.
- Same key + another request → 409 ``idempotency_mismatch``. "The same request" is the
  fingerprint (``core.api.idempotency``, which the apps read too); an order keeps it for as
  long as the order exists, so the rule outlives
  the 48 h these records are kept (``orders.services.placing``).
- Only the view's own answers are stored: 2xx and its 4xx about the request (validation,
  insufficient funds, a price change...). Refusals of the caller (401, 403, 429, or an answer
  the error handler marks ``refusal``: raised before the view ran, or a conflict about the key),
  and server errors are not: the claim is released and a retry with the key runs the view.
- A request claims its key for a lease (``API_IDEMPOTENCY_LEASE_SECONDS``); meanwhile the same
  request gets 409 ``idempotency_in_progress`` with ``Retry-After``. A claim whose lease ran out
  (its process died half-way) is taken over by the next same request, which runs the view again:
  what the dead request committed is found by its own unique constraint (an order's key).
"""

import math
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.api.keys import check_presented_key
from core.api.errors import error_body
from core.api.idempotency import fingerprint, is_views_answer
from core.saves import update_if
from portal.models import IdempotencyRecord

API_PREFIX = "/api/"
HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=48)
MAX_KEY_LENGTH = 255
IN_PROGRESS_RETRY_AFTER = 2  # seconds: the holder usually answers within them
CLAIM_ATTEMPTS = 3


def lease() -> timedelta:
    return timedelta(seconds=settings.API_IDEMPOTENCY_LEASE_SECONDS)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            message = _("The Idempotency-Key is longer than %(max)d characters.")
            return JsonResponse(
                error_body("idempotency_key_invalid", message % {"max": MAX_KEY_LENGTH}),
                status=400,
            )
        check = check_presented_key(request)  # once per request: the view reuses it
        if check is None or check.key is None or not check.key.is_usable:
            return self.get_response(request)  # the view answers 401 (or 429)
        print_ = fingerprint(request)
        claim, answer = claim_key(check.key.partner_id, key, print_)
        if answer is not None:
            return answer
        request.idempotency_fingerprint = print_
        response = self.get_response(request)
        settle(claim, response)
        return response


def claim_key(partner_id: int, key: str, print_: str):
    """Claim ``key`` for this request: ``(claim, None)``, or ``(None, the answer to give)``."""
    for _attempt in range(CLAIM_ATTEMPTS):
        now = timezone.now()
        until = now + lease()
        try:
            claim = _insert_claim(
                partner_id=partner_id, key=key, fingerprint=print_, locked_until=until
            )
            return claim, None
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(partner_id=partner_id, key=key).first()
        if record is None:
            continue  # released meanwhile (a refusal, a server error): claim it again
        if record.fingerprint != print_:
            return None, mismatch()
        if record.completed:
            return None, replay(record)
        lease_end = record.locked_until or record.created_at + lease()
        if lease_end > now:
            return None, in_progress(lease_end - now)
        # The holder never answered within its lease: take the claim over, unless another
        # request just did (the lease end is the claim's fence).
        taken = IdempotencyRecord.objects.filter(
            pk=record.pk, completed=False, locked_until=record.locked_until
        ).update(locked_until=until)
        if taken:
            record.locked_until = until
            return record, None
    return None, in_progress(timedelta(seconds=IN_PROGRESS_RETRY_AFTER))


def _insert_claim(**fields) -> IdempotencyRecord:
    """The claim's row; on its own it is one statement, committed by itself."""
    if not transaction.get_connection().in_atomic_block:
        return IdempotencyRecord.objects.create(**fields)
    with transaction.atomic():  # a savepoint: a taken key leaves the caller's transaction usable
        return IdempotencyRecord.objects.create(**fields)


def settle(claim: IdempotencyRecord, response) -> None:
    """Store the view's answer under the claim, or release the claim for a retry.

    Nothing is written when the claim was taken over meanwhile (this request outlived its
    lease): the request that holds it now answers for the key.
    """
    still_mine = {"completed": False, "locked_until": claim.locked_until}
    if not is_views_answer(response):
        IdempotencyRecord.objects.filter(pk=claim.pk, **still_mine).delete()
        return
    answer = {
        "completed": True,
        "response_status": response.status_code,
        "response_body": response.content,
        "response_content_type": response.get("Content-Type", ""),
    }
    update_if(IdempotencyRecord, claim.pk, where=still_mine, values=answer)


def mismatch() -> JsonResponse:
    message = _("This Idempotency-Key was used with a different request.")
    return JsonResponse(error_body("idempotency_mismatch", message), status=409)


def in_progress(remaining: timedelta) -> JsonResponse:
    message = _("A request with this Idempotency-Key is still being processed.")
    response = JsonResponse(error_body("idempotency_in_progress", message), status=409)
    wait = max(1, min(IN_PROGRESS_RETRY_AFTER, math.ceil(remaining.total_seconds())))
    response["Retry-After"] = str(wait)
    return response


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body),
        status=record.response_status,
        content_type=record.response_content_type,
    )
    response["Idempotent-Replayed"] = "true"
    return response


def purge_expired_records(now=None) -> int:
    """Delete records older than the retention period."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _count = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
