from django.urls import path

from orders.site import replace, sims

app_name = "sims"
urlpatterns = [
    path("", sims.sim_list, name="list"),
    path("<str:iccid>/install/", sims.install, name="install"),
    path("<str:iccid>/renew/", sims.renew, name="renew"),
    path("<str:iccid>/replace/", replace.replace, name="replace"),
]
