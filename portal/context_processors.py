from django.conf import settings


def portal(request):
    """Values every page shows: whether payments are simulated, where to get help."""
    return {
        "test_payments": settings.PAYMENT_GATEWAY == "test",
        "support_email": settings.SUPPORT_EMAIL,
    }
