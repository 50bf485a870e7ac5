"""The customer's in-site notifications: a paginated list and "mark all as read"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orders.models import Notification
from orders.services.notifications import mark_notifications_read

PER_PAGE = 25


@login_required
@require_GET
def notification_list(request):
    notifications = Notification.objects.filter(user=request.user).only(
        "title", "body", "kind", "read_at", "created_at"
    )
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/notifications.html", {"page": page})


@login_required
@require_POST
def mark_all_read(request):
    mark_notifications_read(user=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications:list")
