"""lstmkit: Long Short-Term Memory networks that are correct, fast, inspectable and ready to apply.

The public API is re-exported here. ``lstmkit.nn`` (the networks) needs torch only; the task and
data modules load their own dependencies when first used.
"""

from lstmkit._version import __version__
from lstmkit.errors import (
    ConfigError,
    DataError,
    LstmkitError,
    ModelFileError,
    ShapeError,
    UnsupportedConfigError,
)
from lstmkit.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "ConfigError",
    "DataError",
    "GRUCell",
    "LSTMCell",
    "LstmkitError",
    "ModelFileError",
    "RNNCell",
    "ShapeError",
    "UnsupportedConfigError",
    "__version__",
]
