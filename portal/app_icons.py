"""``/favicon.ico`` and the web app manifest, for browsers and home screens."""

from functools import cache

from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from core.brand import brand_name
from portal import icons

ONE_DAY = 24 * 3600


@cache
def _favicon() -> bytes:
    return (icons.ICON_DIR / "favicon.ico").read_bytes()


@require_safe
@cache_control(public=True, max_age=ONE_DAY)
def favicon(request):
    """The favicon browsers ask for at the site's root."""
    return HttpResponse(_favicon(), content_type="image/x-icon")


@require_safe
def manifest(request):
    """The web app manifest: the brand in the visitor's language and the app icons."""
    name = brand_name()
    return JsonResponse(
        {
            "name": name,
            "short_name": name,
            "lang": get_language(),
            "start_url": "/",
            "display": "standalone",
            "theme_color": icons.GREEN,
            "background_color": icons.WHITE,
            "icons": [
                {
                    "src": static("portal/icons/favicon.svg"),
                    "type": "image/svg+xml",
                    "sizes": "any",
                },
                *(
                    {
                        "src": static(f"portal/icons/icon-{size}.png"),
                        "type": "image/png",
                        "sizes": f"{size}x{size}",
                    }
                    for size in (192, 512)
                ),
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )
