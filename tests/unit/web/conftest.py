"""In-process Django tests: the test settings (config/settings/test.py), one in-memory database per session.

Django is set up when this folder is collected (the test modules import models).
``DJANGO_SETTINGS_MODULE`` is set only while Django loads its settings, so the
subprocesses other tests start (the real site, manage.py) never inherit it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import django
import pytest
from django.conf import settings


def _setup_django() -> None:
    if settings.configured:
        return
    previous = os.environ.get("DJANGO_SETTINGS_MODULE")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    try:
        django.setup()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        else:
            os.environ["DJANGO_SETTINGS_MODULE"] = previous


_setup_django()


@pytest.fixture(scope="session", autouse=True)
def django_test_database() -> Iterator[None]:
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(old, verbosity=0)
