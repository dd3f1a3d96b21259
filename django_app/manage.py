#!/usr/bin/env python
"""Django's command-line utility for the web front end.

Settings: ``config.settings.production`` unless ``DJANGO_SETTINGS_MODULE`` names
another (``config.settings.local`` for development; ``make run`` sets it).
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
