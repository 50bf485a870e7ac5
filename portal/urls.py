from django.contrib import admin
from django.urls import include, path

from orders import provider_callbacks, wallet_views
from orders import views as order_views
from portal import app_icons, health, staff_mfa, views
from portal.metrics import http as metrics_http

handler404 = views.page_not_found

# No language prefix in URLs: the language comes from the visitor's choice (cookie), else from
# what the browser asks for, else English. The partner API first: Django tries the patterns in
# order, and no other one matches a path under api/v1/.
urlpatterns = [
    path("api/v1/", include("portal.api.urls")),
    path("", views.home, name="home"),
    path("favicon.ico", app_icons.favicon, name="favicon"),
    path("site.webmanifest", app_icons.manifest, name="webmanifest"),
    path("health/", health.health, name="health"),
    path("health/live", health.live, name="health_live"),
    path("health/ready", health.ready, name="health_ready"),
    path("metrics", metrics_http.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("plans/", include("plans.site.urls")),
    path("help/", include("help.site.urls")),
    path("", include("orders.site.urls")),
    path("support/", include("support.urls")),
    # allauth's authenticator set-up, sending staff on to the admin afterwards.
    path(
        "accounts/2fa/totp/activate/",
        staff_mfa.ActivateTOTP.as_view(),
        name="mfa_activate_totp",
    ),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("notifications/", include("orders.notifications.urls")),
    path("admin/login/", staff_mfa.admin_login),
    path("admin/", admin.site.urls),
    path("webhooks/wallets/<slug:wallet>/", wallet_views.wallet_ipn, name="wallet_ipn"),
    path("webhooks/<slug:source>/", order_views.payment_webhook, name="payment_webhook"),
    path(
        "providers/<int:provider_id>/callbacks/",
        provider_callbacks.provider_callback,
        name="provider_callback",
    ),
    path("pay/test/<str:reference>/", order_views.test_checkout, name="test_checkout"),
    path("pay/fake/jazzcash/", include("orders.payments.fakes.jazzcash_urls")),
    path("pay/fake/easypaisa/", include("orders.payments.fakes.easypaisa_urls")),
    path("pay/<slug:wallet>/return/", wallet_views.wallet_return, name="wallet_return"),
    path(
        "pay/<slug:wallet>/<str:reference>/",
        wallet_views.wallet_checkout,
        name="wallet_checkout",
    ),
]
