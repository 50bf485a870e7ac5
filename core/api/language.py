"""The language of a partner API answer, picked as the site's is (the language cookie, else
``Accept-Language``, else English) but without looking for a language prefix in the path.

Django's ``LocaleMiddleware`` looks at the path twice per request for URL patterns with a
language prefix; the portal has none, and a partner API request's lane (``portal.lanes``) takes
this middleware instead. The answer says its language (``Content-Language``) and that it varies
by ``Accept-Language``, as the site's do.
"""

from django.utils import translation
from django.utils.cache import patch_vary_headers


class AcceptLanguageMiddleware:
    """Activate the language a partner API call asks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response
