"""Catalog routes of the partner API."""

from django.urls import path

from plans.api import views

urlpatterns = [
    path("plans/", views.PlanListView.as_view(), name="api-plan-list"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="api-plan-detail"),
]
