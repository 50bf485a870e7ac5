"""Idempotency-Key for every partner POST (ARCHITECTURE.md, rule 2).

The first request with a key stores its response; a retry with the same key and the same
request gets the stored response again; the same key with a different request is refused
(409 ``idempotency_mismatch``); a retry while the first is still running gets 409 with
``Retry-After``. Server errors are not stored, so they can be retried. Records are kept 48 h.
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from accounts.services import find_api_key
from portal.api.authentication import bearer_token
from portal.api.errors import error_body
from portal.models import IdempotencyRecord

API_PREFIX = "/api/"
HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=48)
MAX_KEY_LENGTH = 255


def fingerprint(request) -> str:
    """What identifies "the same request": method, path and content, not transport details.

    Multipart bodies are fingerprinted by their fields and each file's content, so a retry with
    a new boundary still matches and large uploads are never read into memory whole.
    """
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    digest.update(content_type.encode() + b"\n")
    if content_type == "multipart/form-data":
        for name, values in sorted(request.POST.lists()):
            digest.update(repr((name, values)).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(name.encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            return JsonResponse(
                error_body("idempotency_key_invalid", f"{HEADER} is longer than {MAX_KEY_LENGTH}."),
                status=400,
            )
        api_key = find_api_key(bearer_token(request))
        if api_key is None:
            return self.get_response(request)  # the view answers 401
        print_ = fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    partner=api_key.partner, key=key, fingerprint=print_
                )
        except IntegrityError:
            return self._replay(api_key.partner, key, print_)
        response = self.get_response(request)
        if response.status_code >= 500:
            record.delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            completed=True,
            response_status=response.status_code,
            response_body=response.content,
            response_content_type=response.get("Content-Type", ""),
        )
        return response

    def _replay(self, partner, key, print_):
        record = IdempotencyRecord.objects.get(partner=partner, key=key)
        if record.fingerprint != print_:
            return JsonResponse(
                error_body(
                    "idempotency_mismatch",
                    "This Idempotency-Key was used with a different request.",
                ),
                status=409,
            )
        if not record.completed:
            response = JsonResponse(
                error_body(
                    "idempotency_in_progress",
                    "A request with this Idempotency-Key is still being processed.",
                ),
                status=409,
            )
            response["Retry-After"] = "2"
            return response
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
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
