from django.contrib import admin
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.brand import brand_name_lazy
from portal.dashboard import dashboard_context

_default_index = admin.site.index


def index_with_dashboard(request, extra_context=None):
    """The admin index, with the staff dashboard above the app list for those who may see it."""
    return _default_index(request, {**dashboard_context(request), **(extra_context or {})})


# The site's URLs are built after every admin module is imported, so they route to this view.
admin.site.index = index_with_dashboard
admin.site.index_template = "admin/dashboard_index.html"

# The brand, in the staff member's language, on every admin page (header and browser title).
admin.site.site_header = format_lazy(_("{brand} admin"), brand=brand_name_lazy())
admin.site.site_title = admin.site.site_header
admin.site.index_title = _("Shop administration")

# Django's admin templates use these screen-reader headings without a Chinese translation of
# their own; listed here so the portal's catalog carries them.
ADMIN_TEMPLATE_STRINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)
