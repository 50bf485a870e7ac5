"""Partner API routes: the wallet and replacement requests."""

from django.urls import path

from orders.api import replacements, wallet

urlpatterns = [
    path("wallet/", wallet.WalletView.as_view(), name="api-wallet"),
    path("wallet/statement/", wallet.StatementView.as_view(), name="api-wallet-statement"),
    path(
        "wallet/statement.csv",
        wallet.StatementCsvView.as_view(),
        name="api-wallet-statement-csv",
    ),
    path(
        "sims/<str:iccid>/replacements/",
        replacements.ReplacementCreateView.as_view(),
        name="api-sim-replacements",
    ),
    path("replacements/", replacements.ReplacementListView.as_view(), name="api-replacements"),
    path(
        "replacements/<int:pk>/",
        replacements.ReplacementDetailView.as_view(),
        name="api-replacement",
    ),
]
