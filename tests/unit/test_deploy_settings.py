"""Production settings behind a TLS proxy: Django's deploy checks are clean, the /chat prefix works."""

from __future__ import annotations

import json
import secrets
import subprocess

from launcher import paths
from launcher.build import rasa_env

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://chat.example.com",
    "DJANGO_SCRIPT_NAME": "/chat",
    "DJANGO_PROXY_SSL_HEADER": "1",
    "DJANGO_SSL_REDIRECT": "1",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_HSTS_PRELOAD": "1",
    "STUDIES_ID_KEY": secrets.token_urlsafe(32),  # the studies' deploy check (studies.E001)
}


def django(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "RASA_JWT_SECRET": secrets.token_urlsafe(32)}
    return subprocess.run(
        [paths.tool("python"), *args],
        cwd=paths.DJANGO_DIR,
        env=rasa_env({**base, **env}),
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_with_production_settings():
    done = django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_warns_without_the_proxy_settings():
    """The defaults are for development and plain-HTTP tests: the deploy check says what is missing."""
    done = django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], DJANGO_HTTPS="1")
    assert done.returncode != 0
    assert "security.W004" in done.stderr and "security.W008" in done.stderr


PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from bots.models import Bot
Bot.objects.create(id="demo", label="Demo", socket_url="https://chat.example.com")
from django.test import Client
from django.urls import reverse
from django.templatetags.static import static
client = Client(HTTP_HOST="chat.example.com", HTTP_X_FORWARDED_PROTO="https")
page = client.get("/")
plain = Client(HTTP_HOST="chat.example.com").get("/healthz")
redirect = Client(HTTP_HOST="chat.example.com").get("/")
print(json.dumps({
    "token": reverse("chat:token"), "static": static("x.js"), "status": page.status_code,
    "html_has_prefix": all(p in page.content.decode() for p in ("/chat/static/", "/chat/chat/demo/widget.json")),
    "health": plain.status_code, "redirect": redirect.status_code, "location": redirect.get("Location", ""),
    "cookie_path": settings.SESSION_COOKIE_PATH,
}))
"""


def test_the_site_under_a_path_prefix():
    done = django(
        ["-c", PROBE],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_DB_PATH=":memory:",
        **PRODUCTION,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["token"] == "/chat/chat/token" and got["static"] == "/chat/static/x.js"
    assert got["status"] == 200 and got["html_has_prefix"]
    assert got["health"] == 200, "the container health check must not be redirected"
    assert got["redirect"] == 301 and got["location"].startswith("https://chat.example.com/chat/")
    assert got["cookie_path"] == "/chat/"


def test_development_defaults_are_unchanged():
    probe = "import django;from django.conf import settings;django.setup();"
    probe += "print(settings.STATIC_URL, settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS,"
    probe += "getattr(settings,'FORCE_SCRIPT_NAME',None), settings.SECURE_PROXY_SSL_HEADER,"
    probe += "settings.DATABASES['default']['ENGINE'])"
    done = django(["-c", probe], DJANGO_SETTINGS_MODULE="config.settings.production")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["/static/", "False", "0", "None", "None", "django.db.backends.sqlite3"]
