"""Response headers for every page."""

from django.conf import settings

# Everything is served by the app itself: no outside CDN, no inline scripts.
DEFAULT_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


# The admin and the interactive API docs use inline scripts of their own.
UNRESTRICTED_PATHS = ("/admin/", "/api/v1/docs/")


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header to the customer site's pages."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(UNRESTRICTED_PATHS):
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
