from django.urls import path

from portal.views import home

app_name = "sims"
urlpatterns = [
    path("", home, name="list"),
]
