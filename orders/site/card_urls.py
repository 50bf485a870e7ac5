from django.urls import path

from orders.site import cards

app_name = "cards"
urlpatterns = [
    path("", cards.card_list, name="list"),
    path("<int:pk>/remove/", cards.remove_card, name="remove"),
]
