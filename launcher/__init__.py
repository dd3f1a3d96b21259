"""launcher: build the demo bot and run the three services locally.

``python -m launcher run`` is what ``make run`` calls; the integration tests
use :mod:`launcher.services` to start the same processes on free ports.
"""
