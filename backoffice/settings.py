"""Settings, read from the environment (twelve-factor).

Every setting that differs between a laptop and production comes from an
environment variable; the defaults are the safe production ones. With no
``DATABASE_URL`` the system uses SQLite under ``var/`` so that ``make run``
works on a fresh clone.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment (or DEBUG=true for local development)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "backoffice.tenancy",
    "backoffice.accounts",
    "backoffice.funds",
    "backoffice.ledger",
    "backoffice.payments",
    "backoffice.receipts",
    "backoffice.audit",
    "backoffice.search",
    "backoffice.counter",
    "backoffice.banking",
    "backoffice.branding",
    "backoffice.portal",
    "backoffice.suspense",
    "plugins",
    "integrations.sandbox",
    "integrations.department_files",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "mozilla_django_oidc",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backoffice.tenancy.middleware.OrganisationMiddleware",
    "backoffice.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backoffice" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "backoffice.branding.context_processors.branding",
            ],
        },
    },
]

# Without DATABASE_URL a laptop gets SQLite; CI must never fall back to it, so
# there the absence of DATABASE_URL is an error, not a default.
if env.bool("CI", default=False) and not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("CI=true but DATABASE_URL is not set: CI must test on PostgreSQL.")
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'ims.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# Email: the console in development, an SMTP URL (smtp+tls://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL",
    default="consolemail://" if DEBUG else "smtp://localhost:25",
)
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST", "")
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="income@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Production hardening: on unless DEBUG, each one switchable for a proxy that terminates TLS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
X_FRAME_OPTIONS = "DENY"

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per background task (e.g. Wagtail's reference index) is noise.
        "django_tasks": {"level": "WARNING"},
        # PDF receipts: dozens of INFO lines about fonts per document.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

WAGTAIL_SITE_NAME = env.str("WAGTAIL_SITE_NAME", default="Income Management")
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_I18N_ENABLED = False
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx", "txt"]

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# A cell starting with = + - @ in an export could run as a formula in Excel.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

LOGIN_URL = "wagtailadmin_login"
LOGIN_REDIRECT_URL = "wagtailadmin_home"

# Integrations ----------------------------------------------------------------------------

# Fernet keys for integration secrets, newest first (docs/plugins.md). Required
# unless DEBUG, where a key derived from SECRET_KEY is used.
SECRETS_ENCRYPTION_KEYS = env.list("SECRETS_ENCRYPTION_KEYS", default=[])
# How long a provider may take to answer before the payment is left for the periodic check.
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=10.0)
# An online payment still open after this many minutes is settled by asking its provider.
SETTLE_PAYMENTS_AFTER_MINUTES = env.int("SETTLE_PAYMENTS_AFTER_MINUTES", default=30)
# Where departmental export files are written, one folder per council and integration.
EXPORT_ROOT = env.path("EXPORT_ROOT", default=BASE_DIR / "var" / "exports")
# The public address of this system, for providers' return URLs and callbacks.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default=WAGTAILADMIN_BASE_URL)

# Background tasks: run at once in-process unless TASKS_BACKEND=database, where
# `manage.py db_worker` runs them and `manage.py run_schedule` enqueues the periodic ones.
if env.str("TASKS_BACKEND", default="immediate") == "database":
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Staff sign-in: single sign-on (OpenID Connect) and the local password form -------------
# docs/single-sign-on.md explains each setting; docs/configuration.md lists them.

# Single sign-on is on when the council's identity provider has given this system a client id.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your council account")
# The provider's endpoints are read from OIDC_OP_ISSUER's discovery document on first use;
# one set here explicitly wins over discovery.
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="").rstrip("/")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
if OIDC_ENABLED:
    _without_discovery = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
        "OIDC_OP_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
        "OIDC_OP_USER_ENDPOINT": OIDC_OP_USER_ENDPOINT,
        "OIDC_OP_JWKS_ENDPOINT": OIDC_OP_JWKS_ENDPOINT,
    }
    _missing = [name for name, value in _without_discovery.items() if not value]
    if not OIDC_OP_ISSUER and _missing:
        raise ImproperlyConfigured(
            "OIDC_RP_CLIENT_ID is set, so single sign-on is on: set OIDC_OP_ISSUER (the "
            f"provider's issuer URL, for discovery) or else {', '.join(_missing)}."
        )
    if not OIDC_RP_CLIENT_SECRET:
        raise ImproperlyConfigured(
            "OIDC_RP_CLIENT_ID is set, so single sign-on is on: set OIDC_RP_CLIENT_SECRET too."
        )
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
# Who a person is: this claim, stored as their username. `sub` never changes or passes to
# someone else; `preferred_username` or `email` read better but can be reassigned.
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="sub")
# What a person may do: the provider's groups (or roles) claim, mapped to this system's roles
# by OIDC_ROLE_GROUPS, e.g. "ims-finance-admins=finance_administrator,ims-income=income_officer".
# The mapping is checked against the roles when the system starts (backoffice/accounts/oidc.py).
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_ROLE_GROUPS = env.str("OIDC_ROLE_GROUPS", default="")
# Which council a person works for: the council code(s) in this claim, or else the default.
OIDC_COUNCIL_CLAIM = env.str("OIDC_COUNCIL_CLAIM", default="")
OIDC_DEFAULT_COUNCIL = env.str("OIDC_DEFAULT_COUNCIL", default="")
# How mozilla-django-oidc is wired in: our sign-in view and backend, the ID token kept in the
# session so that sign-out can end the provider's session too.
OIDC_AUTHENTICATE_CLASS = "backoffice.accounts.oidc.SignInView"
OIDC_CALLBACK_CLASS = "backoffice.accounts.oidc.SignInCallbackView"
OIDC_OP_LOGOUT_URL_METHOD = "backoffice.accounts.oidc.provider_sign_out_url"
OIDC_STORE_ID_TOKEN = True
LOGIN_REDIRECT_URL_FAILURE = "/admin/login/"
LOGOUT_REDIRECT_URL = "/admin/login/"

# The password form: `on` for everyone, `break-glass` for superusers only, `off` for nobody.
LOCAL_LOGIN_MODES = ("on", "break-glass", "off")
LOCAL_LOGIN = env.str("LOCAL_LOGIN", default="break-glass" if OIDC_ENABLED else "on")
if LOCAL_LOGIN not in LOCAL_LOGIN_MODES:
    raise ImproperlyConfigured(
        f"LOCAL_LOGIN={LOCAL_LOGIN!r} is not one of {', '.join(LOCAL_LOGIN_MODES)}."
    )
if LOCAL_LOGIN == "off" and not OIDC_ENABLED:
    raise ImproperlyConfigured(
        "LOCAL_LOGIN=off with single sign-on off (no OIDC_RP_CLIENT_ID) would let nobody sign in."
    )
AUTHENTICATION_BACKENDS = ["backoffice.accounts.local_login.LocalPasswordBackend"]
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("backoffice.accounts.oidc.StaffIdentityBackend")
WAGTAILADMIN_USER_LOGIN_FORM = "backoffice.accounts.local_login.StaffLoginForm"
# With single sign-on, passwords belong to the provider: Wagtail neither resets nor sets them.
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = not OIDC_ENABLED
WAGTAIL_PASSWORD_RESET_ENABLED = LOCAL_LOGIN == "on"

# Audit log: how many reverse proxies of our own sit in front (docs/audit.md); 0 trusts none.
AUDIT_TRUSTED_PROXIES = env.int("AUDIT_TRUSTED_PROXIES", default=0)
SEARCH_STATEMENT_TIMEOUT_MS = env.int("SEARCH_STATEMENT_TIMEOUT_MS", default=2000)
