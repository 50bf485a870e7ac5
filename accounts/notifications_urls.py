from django.urls import path

from accounts import notifications_views

app_name = "notifications"
urlpatterns = [
    path("", notifications_views.notification_list, name="list"),
    path("read/", notifications_views.mark_all_read, name="mark_all_read"),
]
