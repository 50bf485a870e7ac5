"""The API's exception handler: every error answered with core.api.errors.error_body."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.errors import error_body
from orders.services.errors import OrderError

# OrderError codes that are conflicts with the current state rather than bad input.
ORDER_ERROR_STATUS = {
    "insufficient_funds": 402,
    "not_payable": 409,
    "already_decided": 409,
    "not_eligible": 409,
    "price_changed": 409,
    "idempotency_mismatch": 409,
}

# Not the view's answer to the request, so never stored under an Idempotency-Key (the response
# gets ``refusal = True``): refusals of the caller raised before the view runs (content
# negotiation, authentication, permissions, throttling), and conflicts about the key itself.
CALLER_REFUSALS = (
    exceptions.NotAcceptable,
    exceptions.NotAuthenticated,
    exceptions.AuthenticationFailed,
    exceptions.PermissionDenied,
    exceptions.Throttled,
)
KEY_CONFLICTS = {"idempotency_mismatch", "idempotency_in_progress"}


def exception_handler(exc, context):
    """Render every API error with the same body."""
    if isinstance(exc, OrderError):
        response = Response(
            error_body(exc.code, str(exc.message)),
            status=ORDER_ERROR_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST),
        )
        response.refusal = exc.code in KEY_CONFLICTS
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message, details = "validation_error", _("The request is not valid."), exc.detail
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        message, details = str(detail), {}
    response.data = error_body(code, message, details)
    response.refusal = isinstance(exc, CALLER_REFUSALS)
    return response


@csrf_exempt
def json_not_found(request, *args, **kwargs):
    """Unknown API paths answer in the API's error format."""
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
