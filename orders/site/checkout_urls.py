from django.urls import path

from orders.site import checkout

app_name = "orders"
urlpatterns = [
    path("", checkout.order_list, name="list"),
    path("buy/<int:plan_id>/", checkout.buy, name="buy"),
    path("<str:number>/", checkout.order_detail, name="detail"),
    path("<str:number>/pay/", checkout.pay, name="pay"),
    path("<str:number>/status/", checkout.order_status, name="status"),
    path("<str:number>/receipt/", checkout.order_receipt, name="receipt"),
    path("<str:number>/resend/", checkout.resend, name="resend"),
]
