"""The staff dashboard on the admin index: its figures (:mod:`.figures`), the operational ones
(:mod:`.operations`) and the page's context, charts and links (:mod:`.page`)."""

from portal.dashboard.figures import Dashboard, build_dashboard
from portal.dashboard.page import dashboard_context

__all__ = ["Dashboard", "build_dashboard", "dashboard_context"]
