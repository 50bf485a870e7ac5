from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("new/", views.open_conversation, name="open"),
    path("<int:pk>/", views.conversation_detail, name="detail"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("screenshots/<int:pk>/", views.screenshot, name="screenshot"),
]
