from django.urls import path

from portal.views import home

app_name = "plans"
urlpatterns = [
    path("", home, name="list"),
]
