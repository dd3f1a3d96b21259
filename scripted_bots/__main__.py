"""``python -m scripted_bots --port N --bot ID=dotted.Class ...``: serve scripted bots (see server.py)."""

from .server import main

raise SystemExit(main())
