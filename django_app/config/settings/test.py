"""In-process tests (tests/unit/web/): fixed test-only secrets, an in-memory database, fast hashing.

The only settings module where a secret has a default. Tests that start the
real site (tests/integration, tests/e2e) use ``production`` with fresh secrets.
"""

from .base import *  # noqa: F403

DEBUG = False
RASA_JWT_SECRET = "test-only-jwt-secret-" + "x" * 32
SECRET_KEY = "test-only-django-secret-key-" + "y" * 32
STUDIES_ID_KEY = "test-only-studies-id-key-" + "z" * 32
HTTPS = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
#: Static files are served from the apps' folders (WhiteNoise's finders); nothing is collected.
STATIC_ROOT = None
#: Django configures no logging: tests run inside pytest, whose capture would hand Django's
#: console handler a stream that is closed before the process ends.
LOGGING_CONFIG = None
