"""process_data: convert customer-service corpora into Rasa training data.

The library does the work (readers -> pure converters -> atomic writers);
:mod:`process_data.cli` only wraps it.
"""

from .api import ConversionResult, convert_csv, convert_telegram
from .convert import CleaningOptions
from .csv_reader import Columns
from .errors import ConversionError

__all__ = ["CleaningOptions", "Columns", "ConversionError", "ConversionResult", "convert_csv", "convert_telegram"]
