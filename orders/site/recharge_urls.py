from django.urls import path

from portal.views import home

app_name = "recharge"
urlpatterns = [
    path("", home, name="start"),
]
