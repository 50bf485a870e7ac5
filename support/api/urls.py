from django.urls import path

from support.api import views

urlpatterns = [
    path(
        "support/conversations/",
        views.ConversationListCreateView.as_view(),
        name="api-support-conversation-list",
    ),
    path(
        "support/conversations/<str:pk>/",
        views.ConversationDetailView.as_view(),
        name="api-support-conversation-detail",
    ),
    path(
        "support/conversations/<str:pk>/replies/",
        views.ConversationReplyView.as_view(),
        name="api-support-conversation-replies",
    ),
]
