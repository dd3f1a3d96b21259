"""Production: DEBUG off, every secret required (the site refuses to start without one), HTTPS cookies.

The default of ``manage.py`` and ``wsgi.py``, so a deployment that forgets to
choose gets the safe settings. ``DJANGO_HTTPS=0`` allows plain-HTTP cookies for
tests on loopback behind no proxy.
"""

from .base import *  # noqa: F403
from .base import env_bool, jwt_secret, required

DEBUG = False
RASA_JWT_SECRET = jwt_secret()
SECRET_KEY = required("DJANGO_SECRET_KEY")

#: Cookies only over HTTPS unless DJANGO_HTTPS=0 (plain-HTTP tests behind no proxy).
HTTPS = env_bool("DJANGO_HTTPS", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
