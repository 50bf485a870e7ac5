from django.conf import settings

from orders.notifications.unread import unread_count


def portal(request):
    """Values every page shows: whether payments are simulated, where to get help."""
    return {
        "test_payments": settings.PAYMENT_GATEWAY == "test",
        "support_email": settings.SUPPORT_EMAIL,
        "unread_notifications": _unread_notifications(request),
    }


def _unread_notifications(request) -> int:
    """The signed-in user's unread notifications (kept in the shared cache), none for visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_count(user.pk)
