"""process_data: convert customer-service corpora into Rasa training data.

The library does the work (readers -> pure converters -> atomic writers);
:mod:`process_data.cli` only wraps it.
"""

from .api import ConversionResult, convert_csv, convert_telegram
from .errors import ConversionError

__all__ = ["ConversionError", "ConversionResult", "convert_csv", "convert_telegram"]
