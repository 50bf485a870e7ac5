"""The customer site's order pages: orders and checkout, SIMs, recharges, saved cards and the
customer's data export."""

from django.urls import include, path

from orders.site import autorenew, cards, checkout, data_export, recharge, replace, sims

order_patterns = [
    path("", checkout.order_list, name="list"),
    path("buy/<int:plan_id>/", checkout.buy, name="buy"),
    path("<str:number>/", checkout.order_detail, name="detail"),
    path("<str:number>/pay/", checkout.pay, name="pay"),
    path("<str:number>/status/", checkout.order_status, name="status"),
    path("<str:number>/receipt/", checkout.order_receipt, name="receipt"),
    path("<str:number>/resend/", checkout.resend, name="resend"),
]
sim_patterns = [
    path("", sims.sim_list, name="list"),
    path("<str:iccid>/install/", sims.install, name="install"),
    path("<str:iccid>/renew/", sims.renew, name="renew"),
    path("<str:iccid>/replace/", replace.replace, name="replace"),
    path("<str:iccid>/replace/confirm/", replace.confirm, name="replace_confirm"),
    path("<str:iccid>/auto-renew/", autorenew.auto_renew, name="auto_renew"),
    path("<str:iccid>/auto-renew/card/", autorenew.save_card, name="auto_renew_card"),
]
recharge_patterns = [
    path("", recharge.start, name="start"),
    path("confirm/", recharge.confirm, name="confirm"),
]
card_patterns = [
    path("", cards.card_list, name="list"),
    path("<int:pk>/remove/", cards.remove_card, name="remove"),
]

urlpatterns = [
    path("orders/", include((order_patterns, "orders"))),
    path("sims/", include((sim_patterns, "sims"))),
    path("recharge/", include((recharge_patterns, "recharge"))),
    path("account/cards/", include((card_patterns, "cards"))),
    path("account/export/", data_export.export, name="account_export"),
    path("pay/test/setup/<str:token>/", autorenew.test_card_setup, name="test_card_setup"),
]
