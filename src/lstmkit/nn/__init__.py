"""The networks: cells (one step), recurrent layers (the loop over time) and their engines.

Depends on torch only.
"""

from lstmkit.nn.cells import GRUCell, LSTMCell, LSTMOptions, RNNCell
from lstmkit.nn.recurrent import GRU, LSTM, RNN

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "LSTMOptions", "RNN", "RNNCell"]
