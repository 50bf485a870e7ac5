"""The help centre's addresses, under /help/."""

from django.urls import path

from help.site import views

app_name = "help"
urlpatterns = [
    path("", views.index, name="index"),
    path("devices/", views.devices, name="devices"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("articles/<slug:slug>/feedback/", views.feedback, name="feedback"),
]
