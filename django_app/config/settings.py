"""Django settings, read from the environment.

Development (``DJANGO_DEBUG=1``) may run without ``DJANGO_SECRET_KEY``; in
production (the default) the site refuses to start unless every secret is set.
Every variable is listed in ``.env.example`` at the repository root.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """A setting from the environment; empty counts as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean setting: 1/true/yes/on (any case) are true."""
    value = env(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


def required(name: str) -> str:
    """A secret that must be set; fail fast with a message saying which."""
    value = env(name)
    if value is None:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment (see .env.example); "
            "`make run` writes development values into .env."
        )
    return value


DEBUG = env_bool("DJANGO_DEBUG", False)
if DEBUG:  # development may run without a key: a per-process one (sessions end on restart)
    SECRET_KEY = env("DJANGO_SECRET_KEY") or os.urandom(32).hex()
else:
    SECRET_KEY = required("DJANGO_SECRET_KEY")

#: Shared with Rasa's socket.io channel (``jwt_key`` in rasa_bot/credentials.yml).
RASA_JWT_SECRET = required("RASA_JWT_SECRET")
#: Lifetime of the tokens handed to the chat widget, in seconds.
try:
    RASA_JWT_LIFETIME = int(env("RASA_JWT_LIFETIME", "900") or 900)
except ValueError as exc:
    raise ImproperlyConfigured("RASA_JWT_LIFETIME must be a whole number of seconds") from exc
if not 30 <= RASA_JWT_LIFETIME <= 900:
    raise ImproperlyConfigured("RASA_JWT_LIFETIME must be between 30 and 900 seconds (tokens are short-lived)")
#: Where the visitor's browser reaches Rasa's socket.io endpoint.
RASA_SOCKET_URL = env("RASA_SOCKET_URL", "http://localhost:5005")

ALLOWED_HOSTS = (env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1") or "").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in (env("DJANGO_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
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
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
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
#: Cookies only over HTTPS, except in development or when DJANGO_HTTPS=0 (plain-HTTP tests behind no proxy).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS

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
try:
    SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "0") or 0)
except ValueError as exc:
    raise ImproperlyConfigured("DJANGO_HSTS_SECONDS must be a whole number of seconds") from exc
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
