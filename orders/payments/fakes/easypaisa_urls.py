"""The fake Easypay's pages, mounted at /pay/fake/easypaisa/."""

from django.urls import path

from orders.payments.fakes import easypaisa_views as views

urlpatterns = [
    path("Index.jsf", views.checkout, name="easypaisa_fake_checkout"),
    path("Confirm.jsf", views.confirm, name="easypaisa_fake_confirm"),
    path("checkout/<str:transaction_id>/", views.decide, name="easypaisa_fake_decide"),
    path("phone/", views.phone, name="easypaisa_fake_phone"),
    path(
        "easypay-service/rest/v1/order-status/<str:account>/<str:reference>",
        views.order_status,
        name="easypaisa_fake_order_status",
    ),
]
