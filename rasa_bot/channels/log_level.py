"""Keep Rasa's log level when numpy.distutils is first imported.

``numpy.distutils.log``, when first imported, sets the *root* logger to WARNING
(setuptools' distutils log is the root logger). Rasa's stock
``LogisticRegressionClassifier`` imports it (through skops) while the model
loads, so a server running that pipeline (rasa_bot/config-logreg.yml, the
``logreg`` bot of ``make run-bots``) loses every INFO line from then on,
"Rasa server is up and running." among them: the line the launcher waits for.
Importing it here, when the channel is loaded (before the model), and putting
the level back makes the later import a no-op.
"""

from __future__ import annotations

import logging
import warnings


def import_numpy_distutils_log_keeping_the_level() -> None:
    """Import ``numpy.distutils.log`` now, leaving the root logger's level as it was."""
    root = logging.getLogger()
    level = root.level
    try:
        with warnings.catch_warnings():  # "numpy.distutils is deprecated": not ours to act on
            warnings.simplefilter("ignore", DeprecationWarning)
            import numpy.distutils.log  # noqa: F401
    except ImportError:  # numpy without distutils (Python 3.12+): nothing to guard against
        return
    finally:
        root.setLevel(level)
