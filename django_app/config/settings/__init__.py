"""Django settings, split by environment; every value comes from the environment.

Choose one with ``DJANGO_SETTINGS_MODULE``:

* ``config.settings.production`` (the default of ``manage.py`` and ``wsgi.py``):
  ``DEBUG`` off, refuses to start unless ``DJANGO_SECRET_KEY`` and ``RASA_JWT_SECRET``
  are set, cookies over HTTPS only unless ``DJANGO_HTTPS=0``;
* ``config.settings.local``: what ``make run`` uses (its ``.env`` names it): ``DEBUG``
  on unless ``DJANGO_DEBUG=0``, a per-process key when ``DJANGO_SECRET_KEY`` is unset;
* ``config.settings.test``: in-process tests; fixed test-only secrets, no other defaults.

``base`` holds what they share. Every variable is listed in ``.env.example``.
This package itself is not a settings module.
"""
