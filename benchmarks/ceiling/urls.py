"""The ceiling's two endpoints: a bare APIView and a 20-row ModelSerializer list."""

from django.urls import path
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from benchmarks.ceiling.models import Item


class BareView(APIView):
    def get(self, request):
        return Response({"ok": True, "name": "ceiling", "version": 1})


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "name", "sku", "price", "currency", "active", "created_at"]


class ItemListView(generics.ListAPIView):
    serializer_class = ItemSerializer

    def get_queryset(self):
        return Item.objects.order_by("-id")[:20]


urlpatterns = [
    path("bare/", BareView.as_view()),
    path("items/", ItemListView.as_view()),
]
