"""``python -m studies.analysis``: see :mod:`studies.analysis.cli`."""

import sys

from .cli import main

sys.exit(main())
