"""Development (``make run``): DEBUG on, a per-process key when ``DJANGO_SECRET_KEY`` is unset.

``RASA_JWT_SECRET`` is still required: the bots check the tokens with it, and
``make run`` writes one into ``.env``. ``DJANGO_DEBUG=0`` turns DEBUG off (to see
the site's own 404 and 500 pages).
"""

import os

from .base import *  # noqa: F403
from .base import env, env_bool, jwt_secret

DEBUG = env_bool("DJANGO_DEBUG", True)
RASA_JWT_SECRET = jwt_secret()
#: Without a key, one per process: sessions end when the server restarts.
SECRET_KEY = env("DJANGO_SECRET_KEY") or os.urandom(32).hex()

#: Cookies over plain HTTP unless DJANGO_HTTPS=1.
HTTPS = env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
