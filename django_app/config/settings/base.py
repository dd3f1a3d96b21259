"""Settings every environment shares, read from the environment (see ``config/settings/__init__.py``).

Nothing secret has a default here; ``production`` and ``local`` decide what
happens when a secret is missing. Values shared with the bot servers (token
lifetime limit, minimum key length) come from ``chat_contract``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from chat_contract import DEFAULT_BOT_ID, MAX_TOKEN_LIFETIME, MIN_KEY_LENGTH, MIN_TOKEN_LIFETIME

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """A setting from the environment; empty counts as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean setting: 1/true/yes/on (any case) are true."""
    value = env(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, what: str) -> int:
    """A whole-number setting; a clear error when it is not one."""
    try:
        return int(env(name, str(default)) or default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number of {what}") from exc


def required(name: str) -> str:
    """A secret that must be set; fail fast with a message saying which."""
    value = env(name)
    if value is None:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment (see .env.example); "
            "`make run` writes development values into .env."
        )
    return value


def jwt_secret(name: str = "RASA_JWT_SECRET") -> str:
    """The default bot secret: required everywhere, and long enough for HS256."""
    value = required(name)
    if len(value) < MIN_KEY_LENGTH:
        raise ImproperlyConfigured(f"{name} must be at least {MIN_KEY_LENGTH} characters")
    return value


DEBUG = False

#: ``RASA_JWT_SECRET``, the HS256 key of the bots whose registry entry names no other variable
#: (``jwt_secret_env``), shared with Rasa's channels (``jwt_key`` in rasa_bot/credentials.yml) and the
#: scripted-bot server: each environment's module sets it (``jwt_secret()``: required, long enough).
#: Lifetime of the tokens handed to the chat widget, in seconds.
RASA_JWT_LIFETIME = env_int("RASA_JWT_LIFETIME", MAX_TOKEN_LIFETIME, "seconds")
if not MIN_TOKEN_LIFETIME <= RASA_JWT_LIFETIME <= MAX_TOKEN_LIFETIME:
    raise ImproperlyConfigured(
        f"RASA_JWT_LIFETIME must be between {MIN_TOKEN_LIFETIME} and {MAX_TOKEN_LIFETIME} seconds "
        "(tokens are short-lived)"
    )
# Where the browser reaches each bot is in the bot registry (the bots app; django_app/bots.yml
# reads RASA_SOCKET_URL for the demo bot), not in the settings.
#: The bot the full-page chat at / shows (DJANGO_DEFAULT_BOT).
CHAT_DEFAULT_BOT = env("DJANGO_DEFAULT_BOT", DEFAULT_BOT_ID)

#: STUDIES_ID_KEY: the key of the keyed hash (HMAC-SHA256) under which study participants' external ids
#: (Prolific, MTurk) are stored; never the ids themselves. Checked when a study first needs it.
STUDIES_ID_KEY = env("STUDIES_ID_KEY")

ALLOWED_HOSTS = (env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1") or "").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in (env("DJANGO_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bots",
    "chat",
    "studies",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chat.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("DJANGO_DB_PATH", str(BASE_DIR / "db.sqlite3")),
    }
}
#: PostgreSQL instead of SQLite when DJANGO_DB_HOST is set (containers, production; docs/deploy.md).
if env("DJANGO_DB_HOST"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": env("DJANGO_DB_HOST"),
        "PORT": env("DJANGO_DB_PORT", "5432"),
        "NAME": env("DJANGO_DB_NAME", "django"),
        "USER": env("DJANGO_DB_USER", "django"),
        "PASSWORD": env("DJANGO_DB_PASSWORD", ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- behind a TLS reverse proxy (docs/deploy.md); every default leaves development as it was ---
#: The path prefix the proxy serves the site under, e.g. /chat (nginx strips it; Django adds it to URLs).
SCRIPT_NAME = (env("DJANGO_SCRIPT_NAME", "") or "").rstrip("/")
if SCRIPT_NAME and not SCRIPT_NAME.startswith("/"):
    raise ImproperlyConfigured("DJANGO_SCRIPT_NAME must start with / (for example /chat)")
if SCRIPT_NAME:
    FORCE_SCRIPT_NAME = SCRIPT_NAME
    SESSION_COOKIE_PATH = f"{SCRIPT_NAME}/"
    CSRF_COOKIE_PATH = f"{SCRIPT_NAME}/"
#: Trust the proxy's X-Forwarded-Proto (only behind a proxy that sets it, never exposed directly).
if env_bool("DJANGO_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
#: The container health check calls /healthz over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"(^|/)healthz$"]  # request.path includes DJANGO_SCRIPT_NAME
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0, "seconds")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = f"{SCRIPT_NAME}/static/" if SCRIPT_NAME else "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
#: The socket.io browser client, installed from the npm registry (package-lock.json).
STATICFILES_DIRS = [("vendor/socket.io", BASE_DIR / "node_modules" / "socket.io-client" / "dist")]
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
}
