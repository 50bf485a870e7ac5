"""The fake JazzCash's pages, mounted at /pay/fake/jazzcash/."""

from django.urls import path

from orders.payments.fakes import jazzcash_views

urlpatterns = [
    path("checkout/", jazzcash_views.checkout, name="fake_jazzcash_checkout"),
    path(
        "checkout/<str:transaction_id>/",
        jazzcash_views.checkout_decide,
        name="fake_jazzcash_decide",
    ),
    path("phone/", jazzcash_views.phone, name="fake_jazzcash_phone"),
]
