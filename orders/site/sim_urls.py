from django.urls import path

from orders.site import autorenew, replace, sims

app_name = "sims"
urlpatterns = [
    path("", sims.sim_list, name="list"),
    path("<str:iccid>/install/", sims.install, name="install"),
    path("<str:iccid>/renew/", sims.renew, name="renew"),
    path("<str:iccid>/replace/", replace.replace, name="replace"),
    path("<str:iccid>/auto-renew/", autorenew.auto_renew, name="auto_renew"),
    path("<str:iccid>/auto-renew/card/", autorenew.save_card, name="auto_renew_card"),
]
