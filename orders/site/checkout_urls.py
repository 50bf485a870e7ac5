from django.urls import path

from portal.views import home

app_name = "orders"
urlpatterns = [
    path("", home, name="list"),
]
