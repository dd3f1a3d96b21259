"""``python -m process_data``."""

from .cli import main

raise SystemExit(main())
