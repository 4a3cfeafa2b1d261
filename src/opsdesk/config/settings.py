"""Django settings. Every value that differs between sites comes through config/env.py."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from opsdesk.config import env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env.data_dir()


def _secret_key() -> str:
    configured = env.get_str("SECRET_KEY")
    if configured:
        return configured
    # Embedded set-up: one random key per data folder, so sessions survive restarts
    # without anyone having to invent a secret.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.get_bool("DEBUG", False)
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])
OPSDESK_BASE_URL = env.get_str("BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "opsdesk.core",
    "opsdesk.tenancy",
    "opsdesk.sla",
    "opsdesk.tickets",
    "opsdesk.intake",
    "opsdesk.notify",
    "opsdesk.jobs",
    "opsdesk.api",
    "opsdesk.alerts",
    "opsdesk.oncall",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Answers the monitoring webhook without the session, CSRF, auth, locale, messages and
    # htmx middleware below, which do nothing for it (docs/subsystems/alerts.md, "Speed").
    "opsdesk.alerts.middleware.WebhookMiddleware",
    # Answers API calls that carry a bearer token without the browser's middleware below
    # (sessions, CSRF, auth, messages, htmx, staff time zone); see api/middleware.py.
    "opsdesk.api.middleware.ApiTokenMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "opsdesk.tenancy.middleware.StaffTimezoneMiddleware",
]

ROOT_URLCONF = "opsdesk.config.urls"
WSGI_APPLICATION = "opsdesk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "opsdesk.core.context_processors.site",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'opsdesk.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env.get_str("DATABASE_URL", _default_db), conn_max_age=env.get_int("DB_CONN_MAX_AGE", 60)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Persistent per-process connections: opening one runs the PRAGMAs below each time.
    # WAL lets readers and the one writer proceed together; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue on busy_timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameters, and a statement run this many times on a connection is
    # prepared there: PostgreSQL then skips parsing and planning it (measured: half of the
    # database's CPU per ticket create). "off" for a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21). docs/decisions/0008.
    _prepare = env.get_str("DB_PREPARE_THRESHOLD", "5").strip().lower()
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": None
        if _prepare in {"off", "none"}
        else env.get_int("DB_PREPARE_THRESHOLD", 5),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.get_str("LANGUAGE", "ko")
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.get_str("TIME_ZONE", "Asia/Seoul")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "files")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

_redis_url = env.get_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Background work: the database backend by default. A site that scales out runs
# N `opsdesk worker` processes against PostgreSQL (docs/decisions/0002-task-queue.md).
TASKS = {
    "default": {
        "BACKEND": env.get_str("TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# OpsDesk's own settings.
OPSDESK = {
    "SUPPORT_PHONE": env.get_str("SUPPORT_PHONE", "02-0000-0000"),
    "SUPPORT_EMAIL": env.get_str("SUPPORT_EMAIL", "support@opsdesk.example"),
    # Monitoring: calls that only count repeats may skip PostgreSQL's WAL flush wait (alerts.md).
    "ALERTS_REPEATS_ASYNC_COMMIT": env.get_bool("ALERTS_REPEATS_ASYNC_COMMIT", False),
    "SITE_NAME": env.get_str("SITE_NAME", "OpsDesk"),
    "DEFAULT_REGION": env.get_str("PHONE_REGION", "KR"),
    "WORKER_HEARTBEAT_STALE_SECONDS": env.get_int("WORKER_HEARTBEAT_STALE_SECONDS", 120),
    # Email channel (docs/subsystems/email.md).
    "EMAIL_MESSAGE_ID_DOMAIN": env.get_str("EMAIL_MESSAGE_ID_DOMAIN", ""),
    "EMAIL_OWN_ADDRESSES": env.get_list("EMAIL_OWN_ADDRESSES", []),
    "EMAIL_MAX_ATTACHMENT_BYTES": env.get_int("EMAIL_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024),
    "EMAIL_MAX_MESSAGE_BYTES": env.get_int("EMAIL_MAX_MESSAGE_BYTES", 50 * 1024 * 1024),
    "EMAIL_REOPEN_DAYS": env.get_int("EMAIL_REOPEN_DAYS", 7),
    "EMAIL_UNKNOWN_SENDER": env.get_str("EMAIL_UNKNOWN_SENDER", "create"),  # or "quarantine"
    "EMAIL_UNKNOWN_ORGANISATION": env.get_str("EMAIL_UNKNOWN_ORGANISATION", "unknown-senders"),
    "EMAIL_RATE_LIMIT_PER_HOUR": env.get_int("EMAIL_RATE_LIMIT_PER_HOUR", 20),
    "EMAIL_SEND_MAX_ATTEMPTS": env.get_int("EMAIL_SEND_MAX_ATTEMPTS", 5),
    # How long a process trusts its cache of configuration (SLA policies, calendars, routing
    # rules, teams, schedules) before checking the tables again; a save in the same process
    # is seen at once (core/configcache.py). 0 checks on every use.
    "CONFIG_CACHE_SECONDS": env.get_float("CONFIG_CACHE_SECONDS", 1.0),
    # Policy for tickets whose contract names none (seeded by sla/0002).
    "DEFAULT_SLA_POLICY": env.get_str("DEFAULT_SLA_POLICY", "Standard"),
}

# Outgoing mail (the email channel's acknowledgments and agents' replies).
EMAIL_HOST = env.get_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.get_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.get_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.get_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.get_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.get_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", str(OPSDESK["SUPPORT_EMAIL"]))

# Notification channel providers (notify/channels/). Base URLs are settable so a site can
# use a regional endpoint or a relay; tests point them at local fake providers.
OPSDESK_SLACK_BASE_URL = env.get_str("SLACK_BASE_URL")
OPSDESK_SLACK_TOKEN = env.get_str("SLACK_TOKEN")
OPSDESK_TWILIO_BASE_URL = env.get_str("TWILIO_BASE_URL")
OPSDESK_TWILIO_ACCOUNT_SID = env.get_str("TWILIO_ACCOUNT_SID")
OPSDESK_TWILIO_AUTH_TOKEN = env.get_str("TWILIO_AUTH_TOKEN")
OPSDESK_TWILIO_FROM = env.get_str("TWILIO_FROM")
OPSDESK_NHN_SMS_BASE_URL = env.get_str("NHN_SMS_BASE_URL")
OPSDESK_NHN_SMS_APP_KEY = env.get_str("NHN_SMS_APP_KEY")
OPSDESK_NHN_SMS_SECRET_KEY = env.get_str("NHN_SMS_SECRET_KEY")
OPSDESK_NHN_SMS_SEND_NO = env.get_str("NHN_SMS_SEND_NO")
OPSDESK_TELEGRAM_BASE_URL = env.get_str("TELEGRAM_BASE_URL")
OPSDESK_TELEGRAM_BOT_TOKEN = env.get_str("TELEGRAM_BOT_TOKEN")
# Teams: the contact method's address is the webhook URL; only these hosts (and subdomains).
OPSDESK_TEAMS_WEBHOOK_HOSTS = env.get_list(
    "TEAMS_WEBHOOK_HOSTS",
    ["webhook.office.com", "logic.azure.com", "environment.api.powerplatform.com"],
)
OPSDESK_SENS_BASE_URL = env.get_str("SENS_BASE_URL")
OPSDESK_SENS_SERVICE_ID = env.get_str("SENS_SERVICE_ID")
OPSDESK_SENS_ACCESS_KEY = env.get_str("SENS_ACCESS_KEY")
OPSDESK_SENS_SECRET_KEY = env.get_str("SENS_SECRET_KEY")
OPSDESK_SENS_FROM = env.get_str("SENS_FROM")
OPSDESK_KAKAO_BASE_URL = env.get_str("KAKAO_BASE_URL")
OPSDESK_KAKAO_APP_KEY = env.get_str("KAKAO_APP_KEY")
OPSDESK_KAKAO_SECRET_KEY = env.get_str("KAKAO_SECRET_KEY")
OPSDESK_KAKAO_SENDER_KEY = env.get_str("KAKAO_SENDER_KEY")
OPSDESK_KAKAO_TEMPLATE_CODE = env.get_str("KAKAO_TEMPLATE_CODE")
OPSDESK_KAKAO_RESEND = env.get_bool("KAKAO_RESEND", False)
OPSDESK_KAKAO_RESEND_SEND_NO = env.get_str("KAKAO_RESEND_SEND_NO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "opsdesk.core.logging.MaskPersonalDataFilter"}},
    "formatters": {"json": {"()": "opsdesk.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env.get_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
