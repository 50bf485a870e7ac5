"""Settings, read from environment variables only.

Two modes, chosen by ``PORTAL_MODE``:

* ``embedded`` (the default): SQLite, the embedded Redis broker, the sandbox provider, the test
  payment gateway and a generated development secret key kept in ``var/``. Runs with nothing set.
* ``production``: every secret comes from the environment, HTTPS is enforced and
  ``manage.py check --deploy`` reports nothing.
"""

import os
from email.utils import formataddr, parseaddr
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.logging.config import log_format, logging_config
from portal.secret_key import load_or_create_dev_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

PORTAL_MODE = env.str("PORTAL_MODE", default="embedded")
if PORTAL_MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured("PORTAL_MODE must be 'embedded' or 'production'.")
PRODUCTION = PORTAL_MODE == "production"

VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEV_SECRET_KEY_FILE = VAR_DIR / "secret_key"
if PRODUCTION:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("Production needs SECRET_KEY: 50+ random characters.")
    if DEV_SECRET_KEY_FILE.exists() and DEV_SECRET_KEY_FILE.read_text().strip() == SECRET_KEY:
        raise ImproperlyConfigured("Production refuses the generated development SECRET_KEY.")
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "") or load_or_create_dev_secret_key(
        DEV_SECRET_KEY_FILE
    )

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
if PRODUCTION and (DEBUG or not ALLOWED_HOSTS):
    raise ImproperlyConfigured("Production needs DEBUG off and ALLOWED_HOSTS set.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    # Our apps come before allauth so that our templates override its layouts.
    "core",
    "portal",
    "accounts",
    "plans",
    "orders",
    "help",
    "support",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    # Probes are answered first: no host check or HTTPS redirect for the cluster's own requests.
    "portal.health.HealthProbeMiddleware",
    "core.logging.middleware.RequestIdMiddleware",
    # Then /metrics (Prometheus scrapes pods by address), and the timing of every other request.
    "portal.metrics.http.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Partner API calls go on through the rest without SITE_ONLY_MIDDLEWARE (portal/lanes.py).
    "portal.lanes.PartnerApiLane",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.staff_mfa.StaffTwoFactorMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "portal.api.idempotency.IdempotencyMiddleware",
    "portal.lanes.PartnerApiLaneEnd",
]
# What API-key calls never use: no session, cookie, CSRF token, message, sign-in or admin page.
SITE_ONLY_MIDDLEWARE = {
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.staff_mfa.StaffTwoFactorMiddleware",
}
# What API-key calls take in place of the site's: no language cookie or path prefix to look for.
PARTNER_API_MIDDLEWARE_INSTEAD = {
    "django.middleware.locale.LocaleMiddleware": "core.api.language.AcceptLanguageMiddleware",
}

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Production reuses connections for a minute (a new one per request costs more than the
# request), each checked before a request or task reuses it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "DATABASE_CONN_MAX_AGE", default=60 if PRODUCTION else 0
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL gets the values apart from the SQL (server-side binding) and prepares a statement
# run five times on a connection: planned once, not on every request (docs/decisions.md). Off
# for a PgBouncer older than 1.21 in transaction mode, which cannot route prepared statements.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=5 if DATABASE_PREPARED_STATEMENTS else None,
    )
    # Django's backend, checking a reused connection without a round trip (core/postgresql).
    DATABASES["default"]["ENGINE"] = "core.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # An index's INCLUDE columns are a PostgreSQL read shortcut; SQLite builds the index without.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"

# The shop's name as the site, the admin and every email show it, one form per language
# (``core.brand``). Emails are sent from DEFAULT_FROM_EMAIL's address under this name.
PORTAL_BRAND = {
    "en": env.str("PORTAL_BRAND", default="Pakistan eSIM"),
    "zh-hans": env.str("PORTAL_BRAND_ZH_HANS", default="巴基斯坦 eSIM"),
    "zh-hant": env.str("PORTAL_BRAND_ZH_HANT", default="巴基斯坦 eSIM"),
}

AUTHENTICATION_BACKENDS = ["accounts.backends.ModelBackend", "accounts.backends.AccountBackend"]
# Sessions signed in through a backend before it moved keep their sign-in (core.sessions).
RENAMED_AUTHENTICATION_BACKENDS = {
    "django.contrib.auth.backends.ModelBackend": "accounts.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": "accounts.backends.AccountBackend",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "sims:list"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# Login throttling: allauth counts failed logins per IP and per account in the cache.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/5m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = PORTAL_BRAND["en"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Simplified first: a browser asking for plain "zh" gets it; zh-TW, zh-HK and zh-MO fall back to
# Traditional (Django's LANG_INFO).
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Karachi"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Uploads go to the S3 bucket in production; a single host may keep them on a shared volume
# instead (ALLOW_LOCAL_MEDIA, checked by `check --deploy`).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
    AWS_DEFAULT_ACL = "private"
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = 300
    DEFAULT_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    # Private: no MEDIA_URL is routed, files are only read through permission-checked views.
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Private files (identity documents): readable by the portal's user only.
        "OPTIONS": {
            "location": MEDIA_ROOT,
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Single-machine setups `check --deploy` accepts in production when the operator says so.
ALLOW_LOCAL_MEDIA = env.bool("ALLOW_LOCAL_MEDIA", default=False)
ALLOW_LOCAL_SERVICES = env.bool("ALLOW_LOCAL_SERVICES", default=False)

# Email: printed to the console in embedded mode. Production never prints it (activation codes
# would land in the log) and, without EMAIL_URL, refuses to send (`check --deploy` reports it).
EMAIL_URL = env.str("EMAIL_URL", default="" if PRODUCTION else "consolemail://")
if PRODUCTION and EMAIL_URL.startswith("consolemail:"):
    raise ImproperlyConfigured("Production refuses console email: set EMAIL_URL to an SMTP relay.")
EMAIL_CONFIG = (
    env.email_url_config(EMAIL_URL)
    if EMAIL_URL
    else {"EMAIL_BACKEND": "portal.mail.UnconfiguredEmailBackend"}
)
vars().update(EMAIL_CONFIG)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="support@paksim.example")
# Support conversations: where staff hear of customers' messages, and when a wait is too long.
SUPPORT_INBOX_EMAIL = env.str("SUPPORT_INBOX_EMAIL", default=SUPPORT_EMAIL)
SUPPORT_SLA_MINUTES = env.int("SUPPORT_SLA_MINUTES", default=120)
SUPPORT_MAX_SCREENSHOTS = 3
DEFAULT_FROM_EMAIL = formataddr(
    (PORTAL_BRAND["en"], parseaddr(env.str("DEFAULT_FROM_EMAIL", default=SUPPORT_EMAIL))[1])
)

# Payments: with no Stripe keys the built-in test gateway takes payments.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
PAYMENT_GATEWAY = "stripe" if STRIPE_SECRET_KEY else "test"
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET.strip():
    raise ImproperlyConfigured("STRIPE_SECRET_KEY needs STRIPE_WEBHOOK_SECRET as well.")
if PRODUCTION and PAYMENT_GATEWAY == "test" and not env.bool("ALLOW_TEST_PAYMENTS", False):
    raise ImproperlyConfigured("Production needs STRIPE_SECRET_KEY (or ALLOW_TEST_PAYMENTS=1).")

# Pakistan's mobile wallets, paid automatically (orders/payments/local_wallet.py). A wallet listed
# in LOCAL_WALLETS runs live with all its credentials, or as the built-in fake with none of them
# (outside production, or with ALLOW_TEST_PAYMENTS); anything in between refuses to start.
WALLET_CREDENTIALS = {
    "jazzcash": ["JAZZCASH_MERCHANT_ID", "JAZZCASH_PASSWORD", "JAZZCASH_INTEGRITY_SALT"],
    "easypaisa": [
        "EASYPAISA_STORE_ID",
        "EASYPAISA_HASH_KEY",
        "EASYPAISA_USERNAME",
        "EASYPAISA_PASSWORD",
        "EASYPAISA_ACCOUNT_NUM",
    ],
}
JAZZCASH_MERCHANT_ID = env.str("JAZZCASH_MERCHANT_ID", default="")
JAZZCASH_PASSWORD = env.str("JAZZCASH_PASSWORD", default="")
JAZZCASH_INTEGRITY_SALT = env.str("JAZZCASH_INTEGRITY_SALT", default="")
JAZZCASH_MPIN = env.str("JAZZCASH_MPIN", default="")  # refunds of wallet payments
JAZZCASH_BASE_URL = env.str("JAZZCASH_BASE_URL", default="https://sandbox.jazzcash.com.pk")
EASYPAISA_STORE_ID = env.str("EASYPAISA_STORE_ID", default="")
EASYPAISA_HASH_KEY = env.str("EASYPAISA_HASH_KEY", default="")
EASYPAISA_USERNAME = env.str("EASYPAISA_USERNAME", default="")
EASYPAISA_PASSWORD = env.str("EASYPAISA_PASSWORD", default="")
EASYPAISA_ACCOUNT_NUM = env.str("EASYPAISA_ACCOUNT_NUM", default="")  # the inquiry's accountNum
EASYPAISA_BASE_URL = env.str("EASYPAISA_BASE_URL", default="https://easypaystg.easypaisa.com.pk")
LOCAL_WALLETS = {}  # wallet key → "live" or "fake"
for _wallet in env.list("LOCAL_WALLETS", default=[] if PRODUCTION else list(WALLET_CREDENTIALS)):
    if _wallet not in WALLET_CREDENTIALS:
        raise ImproperlyConfigured(f"LOCAL_WALLETS names an unknown wallet {_wallet!r}.")
    _missing = [name for name in WALLET_CREDENTIALS[_wallet] if not globals()[name].strip()]
    if not _missing:
        LOCAL_WALLETS[_wallet] = "live"
    elif len(_missing) < len(WALLET_CREDENTIALS[_wallet]):
        raise ImproperlyConfigured(f"{_wallet} is configured without {', '.join(_missing)}.")
    elif PRODUCTION and not env.bool("ALLOW_TEST_PAYMENTS", False):
        raise ImproperlyConfigured(f"Production needs {', '.join(_missing)} for {_wallet}.")
    else:
        LOCAL_WALLETS[_wallet] = "fake"
# How long a wallet payment attempt stays payable; pending ones are asked about (the inquiry
# API) once their callback is this many seconds late.
WALLET_PAYMENT_MINUTES = env.int("WALLET_PAYMENT_MINUTES", default=30)
WALLET_INQUIRY_AFTER_SECONDS = env.int("WALLET_INQUIRY_AFTER_SECONDS", default=120)

# API keys are stored as HMACs keyed with this pepper.
# Secrets are read as they are: django-environ reads a value starting with "$" as a reference to
# another variable, and a generated key may start with one.
API_KEY_PEPPER = env.str("API_KEY_PEPPER", default="") or SECRET_KEY

# Celery: the embedded broker is a Redis server on a unix socket inside VAR_DIR.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL",
    default=f"{REDIS_URL}/0"
    if REDIS_URL
    else f"redis+socket://{EMBEDDED_REDIS_SOCKET}?virtual_host=0",
)
# kombu's Redis transport with its client kept between messages (portal/broker.py).
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "portal.broker:Transport"
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=f"{REDIS_URL}/1"
    if REDIS_URL
    else f"redis+socket://{EMBEDDED_REDIS_SOCKET}?virtual_host=1",
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# A worker's task process is replaced once it holds this much memory, or after this many tasks:
# a leak never grows, and a busy worker does not fork a process and open a database session
# every few seconds.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("WORKER_MAX_MEMORY_PER_CHILD_MB", default=512) * 1024
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("WORKER_MAX_TASKS_PER_CHILD", default=10_000)
# The beat's schedule and its one-beat lock live in the broker's Redis (portal/celery.py).
CELERY_REDBEAT_REDIS_URL = env.str(
    "REDBEAT_REDIS_URL",
    default=CELERY_BROKER_URL.replace("redis+socket://", "unix://").replace("virtual_host=", "db="),
)

CACHE_TIMEOUT_SECONDS = 2
CACHES = {
    "default": env.cache("CACHE_URL", default=f"{REDIS_URL}/2" if REDIS_URL else "locmemcache://")
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's backend with its Redis clients reused (core/cache.py).
    CACHES["default"]["BACKEND"] = "core.cache.RedisCache"
    # A cache cut off fails its callers in seconds, not after the system's TCP timeout.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        socket_timeout=CACHE_TIMEOUT_SECONDS, socket_connect_timeout=CACHE_TIMEOUT_SECONDS
    )
# Whether every process shares the cache (Redis): what one process changes, the others see.
CACHE_SHARED = CACHES["default"]["BACKEND"] == "core.cache.RedisCache"
# Sessions live in the database; with a shared cache a request reads them from the cache, without
# a query. A per-process cache would keep a session ended in one process alive in others.
SESSION_ENGINE = "core.sessions" if CACHE_SHARED else "django.contrib.sessions.backends.db"
# A catalog import waits in the cache between its preview and its confirmation: shared by every
# web server (Redis in production) and gone after a day if never confirmed.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "plans.importing.upload.SharedImportStorage"

# Logs (docs/deploy.md, "Logs"): one JSON object a line in production, plain text otherwise
# (LOG_FORMAT=json|plain decides), times in UTC, each line with its request id and task, secrets
# and activation codes redacted. Workers and gunicorn use the same configuration.
try:
    LOG_FORMAT = log_format(os.environ)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
LOGGING = logging_config(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO").upper())

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.RememberedNegotiation",
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.authentication.IsPartner"],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.NewestFirstPagination",
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.PartnerAutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{PORTAL_BRAND['en']} partner API",
    "DESCRIPTION": "Catalog at your prices, orders paid from your wallet, SIMs, renewals, "
    "recharges, replacements and signed webhooks. Every POST accepts an Idempotency-Key.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge from the public validator: the docs load nothing from elsewhere (CSP).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventTypeEnum": "orders.models.partner_webhooks.EventType",
        "ConversationStatusEnum": "support.models.Conversation.Status",
    },
}
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=120)
# An Idempotency-Key claimed by a request that never answered (its process died) may be taken
# over after this lease; longer than any API request may run.
API_IDEMPOTENCY_LEASE_SECONDS = env.int("API_IDEMPOTENCY_LEASE_SECONDS", default=60)
# Wrong API keys per client address and clock window; past it the address gets 429 until the
# window ends, a right key included.
API_AUTH_FAILURES_PER_WINDOW = env.int("API_AUTH_FAILURES_PER_WINDOW", default=20)
API_AUTH_FAILURE_WINDOW_SECONDS = env.int("API_AUTH_FAILURE_WINDOW_SECONDS", default=600)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Outgoing webhooks are sent only to hosts that resolve to public addresses (SSRF). Turn this on
# for local development only, to receive webhooks on this machine or the local network.
WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS = env.bool("WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS", default=False)
if PRODUCTION and WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS:
    raise ImproperlyConfigured("WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS is for development only.")

# Provisioning: a worker holds an order's attempt for the lease; after it another may take over.
PROVISIONING_LEASE_SECONDS = env.int("PROVISIONING_LEASE_SECONDS", default=300)
PROVISIONING_MAX_ATTEMPTS = env.int("PROVISIONING_MAX_ATTEMPTS", default=5)
PROVISIONING_RETRY_BASE_SECONDS = env.int("PROVISIONING_RETRY_BASE_SECONDS", default=15)
RECONCILE_AFTER_SECONDS = env.int("RECONCILE_AFTER_SECONDS", default=120)
# Work sent to a worker and not started within this is sent again by the dispatcher (durable
# retries: every next try's time is a database column, never a countdown in the broker).
DISPATCH_LEASE_SECONDS = env.int("DISPATCH_LEASE_SECONDS", default=60)
# An incoming payment event is tried at most this many times, then closed as failed.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)

# Real upstream providers: credentials only from the environment. A Provider row names its
# adapter; the sandbox needs none, the others refuse to run (and production refuses to start)
# without theirs.
PROVIDER_CREDENTIALS = {
    "airalo": {
        "client_id": env.str("AIRALO_CLIENT_ID", default=""),
        "client_secret": env.str("AIRALO_CLIENT_SECRET", default=""),
        "base_url": env.str("AIRALO_BASE_URL", default="https://sandbox-partners-api.airalo.com"),
        "webhook_secret": env.str("AIRALO_WEBHOOK_SECRET", default=""),
    },
    "esimaccess": {
        "access_code": env.str("ESIMACCESS_ACCESS_CODE", default=""),
        "secret_key": env.str("ESIMACCESS_SECRET_KEY", default=""),
        "base_url": env.str("ESIMACCESS_BASE_URL", default="https://api.esimaccess.com"),
        "webhook_secret": env.str("ESIMACCESS_WEBHOOK_SECRET", default=""),
    },
    "reloadly": {
        "client_id": env.str("RELOADLY_CLIENT_ID", default=""),
        "client_secret": env.str("RELOADLY_CLIENT_SECRET", default=""),
        "base_url": env.str("RELOADLY_BASE_URL", default="https://topups-sandbox.reloadly.com"),
        "auth_url": env.str("RELOADLY_AUTH_URL", default="https://auth.reloadly.com/oauth/token"),
    },
}

# Auto-renew: charge the saved card this many hours before expiry; retry a decline once after
# the retry delay.
AUTO_RENEW_LEAD_HOURS = env.int("AUTO_RENEW_LEAD_HOURS", default=24)
AUTO_RENEW_RETRY_HOURS = env.int("AUTO_RENEW_RETRY_HOURS", default=6)

# Usage sync: SIMs not synced for the interval are read from their provider in batches, at most
# this many calls per provider per minute (the rest wait for the next run).
USAGE_SYNC_BATCH_SIZE = env.int("USAGE_SYNC_BATCH_SIZE", default=200)
USAGE_SYNC_INTERVAL_MINUTES = env.int("USAGE_SYNC_INTERVAL_MINUTES", default=60)
USAGE_SYNC_RATE_PER_MINUTE = env.int("USAGE_SYNC_RATE_PER_MINUTE", default=120)

# Where customers send manual payments, shown on the payment page, e.g.
# MANUAL_PAYMENT_ACCOUNTS="bank_transfer=IBAN PK00 MEZN 0000 0000 0000,jazzcash=0300 1234567"
MANUAL_PAYMENT_ACCOUNTS = env.dict(
    "MANUAL_PAYMENT_ACCOUNTS",
    default={}
    if PRODUCTION
    else {
        "bank_transfer": "Demo Bank · IBAN PK36 DEMO 0000 0012 3456 7802",
        "jazzcash": f"0300 0000000 ({PORTAL_BRAND['en']})",
        "easypaisa": f"0345 0000000 ({PORTAL_BRAND['en']})",
    },
)

# Identity review: with two-person approval a second, different reviewer completes an approval.
IDENTITY_TWO_PERSON_APPROVAL = env.bool("IDENTITY_TWO_PERSON_APPROVAL", default=False)

# Identity documents: uploads are re-encoded, encrypted with the first of these Fernet keys (any of
# them decrypts, so keys can be rotated with `manage.py rotate_document_keys`) and purged after the
# decision. Outside production, one key is derived from SECRET_KEY.
IDENTITY_DOCUMENT_KEYS = env.list("IDENTITY_DOCUMENT_KEYS", default=[])
if not IDENTITY_DOCUMENT_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("Production needs IDENTITY_DOCUMENT_KEYS")
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    _derived = HKDF(hashes.SHA256(), length=32, salt=None, info=b"identity-documents")
    IDENTITY_DOCUMENT_KEYS = [
        base64.urlsafe_b64encode(_derived.derive(SECRET_KEY.encode())).decode()
    ]
IDENTITY_UPLOAD_MAX_BYTES = env.int("IDENTITY_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
IDENTITY_UPLOAD_MAX_PIXELS = env.int("IDENTITY_UPLOAD_MAX_PIXELS", default=40_000_000)
IDENTITY_IMAGE_MAX_SIDE = env.int("IDENTITY_IMAGE_MAX_SIDE", default=2400)
IDENTITY_DOCUMENT_RETENTION_DAYS = env.int("IDENTITY_DOCUMENT_RETENTION_DAYS", default=30)

# SMS reminders: "console" logs them (and keeps them in accounts.sms.outbox), "twilio" sends them.
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
# A reminder not recorded as delivered this long after its send was claimed is claimed again.
REMINDER_RESEND_AFTER_MINUTES = env.int("REMINDER_RESEND_AFTER_MINUTES", default=10)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")

# Metrics and error reports (portal/metrics; docs/deploy.md, "Metrics"). /metrics answers a
# scraper that presents "Authorization: Bearer <METRICS_TOKEN>"; without a token it exists only
# in embedded mode, for this machine. Sentry is used only when SENTRY_DSN is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=PORTAL_MODE)
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from portal.metrics.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
