"""Django settings for Guanxi.

Everything is configured from environment variables with safe defaults so that a
fresh checkout runs with no configuration at all (embedded SQLite under ``var/``).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


TESTING = os.environ.get("GUANXI_TESTING") == "1" or "pytest" in sys.modules

DATA_DIR = Path(os.environ.get("GUANXI_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Return SECRET_KEY from the environment or from ``var/secret_key`` (created once)."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("GUANXI_DEBUG", False)
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "guanxi.core",
    "guanxi.identity",
    "guanxi.customers",
    "guanxi.leads",
    "guanxi.activities",
    "guanxi.sales",
    "guanxi.automation",
    "guanxi.finance",
    "guanxi.marketing",
    "guanxi.search",
    "guanxi.importing",
    "guanxi.reports",
    "guanxi.web",
    "guanxi.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "guanxi.identity.middleware.UserLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guanxi.identity.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "guanxi.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.web.context_processors.navigation",
                "guanxi.activities.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "guanxi.sqlite3"
_database_url = os.environ.get("DATABASE_URL", "")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "600")),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                # Without these, concurrent writers get 'database is locked' (DESIGN §1).
                "transaction_mode": "IMMEDIATE",
                "timeout": 25,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA mmap_size=268435456;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["guanxi.identity.backends.UsernameOrEmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "identity:login"
LOGIN_MAX_FAILURES = int(os.environ.get("GUANXI_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("GUANXI_LOGIN_LOCKOUT_MINUTES", "15"))
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30  # "remember me"; plain logins expire with the browser
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("GUANXI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- I18n -----------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "guanxi" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request while it is missing
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Cache and background work --------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "guanxi",
        }
    }

HUEY_IMMEDIATE = TESTING or _env_bool("GUANXI_TASKS_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "guanxi",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "guanxi",
        "filename": str(DATA_DIR / "tasks.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# --- E-mail ---------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL:
    from urllib.parse import unquote, urlparse

    _mail = urlparse(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "localhost"
    EMAIL_PORT = _mail.port or 25
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_TLS = _mail.scheme == "smtp+tls"
    EMAIL_USE_SSL = _mail.scheme == "smtps"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "guanxi@localhost")
GUANXI_BASE_URL = os.environ.get("GUANXI_BASE_URL", "http://127.0.0.1:8000")

# --- API ------------------------------------------------------------------------------
NINJA_PAGINATION_MAX_LIMIT = 200
API_PAGE_SIZE_MAX = 200
# Counting beyond this many rows costs more than the page itself; above it, lists report
# a lower bound with count_exact = false (DESIGN §3).
LIST_COUNT_LIMIT = int(os.environ.get("GUANXI_LIST_COUNT_LIMIT", "10000"))
# The most records one bulk action (edit, tags, transfer, delete) may touch.
GUANXI_BULK_MAX = int(os.environ.get("GUANXI_BULK_MAX", "50000"))
# How many days a date-based automation rule still catches up after the worker was down.
GUANXI_RULES_LOOKBACK_DAYS = int(os.environ.get("GUANXI_RULES_LOOKBACK_DAYS", "3"))
# Roles (besides administrators) whose holders may share saved list views.
GUANXI_VIEW_SHARE_ROLES = [
    r.strip() for r in os.environ.get("GUANXI_VIEW_SHARE_ROLES", "manager").split(",") if r.strip()
]

# Imports: the largest accepted file, and how long an importer may undo their own import.
GUANXI_IMPORT_MAX_BYTES = int(os.environ.get("GUANXI_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
GUANXI_IMPORT_UNDO_HOURS = float(os.environ.get("GUANXI_IMPORT_UNDO_HOURS", "24"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANXI_LOG_LEVEL", "WARNING")},
    "loggers": {
        "guanxi": {"level": os.environ.get("GUANXI_LOG_LEVEL", "INFO")},
        "huey": {"level": "INFO"},
    },
}

GUANXI_NAME = _("Guanxi CRM")
# Serve app static files straight from their packages too, so a checkout works before
# (or without) collectstatic; `guanxi serve` still collects them for speed.
WHITENOISE_USE_FINDERS = True
TRUST_X_FORWARDED_FOR = _env_bool("GUANXI_TRUST_X_FORWARDED_FOR", False)
GUANXI_API_ROUTERS: list[str] = [
    "guanxi.core.api",
    "guanxi.core.lists_api",
    "guanxi.leads.api",
    "guanxi.leads.rules_api",
    "guanxi.customers.api",
    "guanxi.activities.api",
    "guanxi.sales.api",
    "guanxi.search.api",
    "guanxi.automation.api",
    "guanxi.automation.rules_api",
    "guanxi.automation.webhooks_api",
    "guanxi.sales.catalog.api",
    "guanxi.sales.quotes.api",
    "guanxi.importing.api",
    "guanxi.reports.analytics_api",
    "guanxi.finance.api",
    "guanxi.reports.api",
    "guanxi.sales.forecast_api",
    "guanxi.marketing.api",
]  # extended as apps land: "guanxi.leads.api", ...
# The Huey consumer adds its own handler when "huey" has none, and the record then also
# reaches the root handler: every worker line was printed twice.
_loggers = LOGGING["loggers"]
assert isinstance(_loggers, dict)
_loggers["huey"] = {"level": "INFO", "handlers": ["console"], "propagate": False}
