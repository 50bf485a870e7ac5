from django.urls import path

from orders.site import recharge

app_name = "recharge"
urlpatterns = [
    path("", recharge.start, name="start"),
    path("confirm/", recharge.confirm, name="confirm"),
]
