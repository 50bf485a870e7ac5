"""Gives every request an id (the load balancer's ``X-Request-ID`` when well formed) for its logs,
the tasks it sends and its response's ``X-Request-ID`` header."""

from core.logging.context import REQUEST_ID_HEADER, accepted_request_id, request_id_var


class RequestIdMiddleware:
    """Sets the request id until the response is closed, so that Django's own response logging
    and the server's access log, which come after the middleware returns, still carry it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        token = request_id_var.set(request_id)
        request.request_id = request_id
        try:
            response = self.get_response(request)
        except BaseException:
            request_id_var.reset(token)
            raise
        response[REQUEST_ID_HEADER] = request_id
        response._resource_closers.append(lambda: _forget(token))
        return response


def _forget(token) -> None:
    try:
        request_id_var.reset(token)
    except (ValueError, RuntimeError):  # closed in another context, or twice
        request_id_var.set(None)
