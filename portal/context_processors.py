from django.conf import settings


def portal(request):
    """Values every page shows: whether payments are simulated, where to get help."""
    return {
        "test_payments": settings.PAYMENT_GATEWAY == "test",
        "support_email": settings.SUPPORT_EMAIL,
        "unread_notifications": _unread_notifications(request),
    }


def _unread_notifications(request) -> int:
    """The signed-in user's unread notifications: one indexed count, none for visitors."""
    from orders.models import Notification

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
