"""What the Idempotency-Key rule needs below the shell: the request fingerprint that identifies
"the same request", and which answers are the view's own (stored and replayed).

The middleware that claims keys and replays answers is ``portal.api.idempotency``; the apps read
the fingerprint it computed (``request_fingerprint``), e.g. to keep it on an order.
"""

import hashlib

# Refusals of the caller, whoever answered them: never the view's answer to the request.
REFUSAL_STATUSES = {401, 403, 407, 429}


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


def request_fingerprint(request) -> str:
    """The fingerprint of a request that came with an Idempotency-Key ("" without one)."""
    return getattr(request, "idempotency_fingerprint", "")


def is_views_answer(response) -> bool:
    """Whether ``response`` is the view's own answer to the request, to be stored and replayed."""
    status = response.status_code
    return (
        200 <= status < 500
        and status not in REFUSAL_STATUSES
        and not getattr(response, "refusal", False)
        and not response.streaming
    )
