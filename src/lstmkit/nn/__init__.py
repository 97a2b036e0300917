"""The networks: cells (one step), recurrent layers (the loop over time) and their engines, and
the blocks tasks build on them: attention, a linear-chain CRF, GRU-D input and hidden-state
decay, the AWD-LSTM regularisers.

Depends on torch only.
"""

from lstmkit.nn.attention import AdditiveAttention, MultiplicativeAttention
from lstmkit.nn.cells import GRUCell, LSTMCell, LSTMOptions, RNNCell
from lstmkit.nn.crf import CRF
from lstmkit.nn.decay import InputDecay
from lstmkit.nn.hidden_decay import HiddenDecay, backward_deltas
from lstmkit.nn.recurrent import GRU, LSTM, RNN
from lstmkit.nn.regularization import LockedDropout, WeightDrop, embedding_dropout

__all__ = [
    "CRF",
    "GRU",
    "LSTM",
    "RNN",
    "AdditiveAttention",
    "GRUCell",
    "HiddenDecay",
    "InputDecay",
    "LSTMCell",
    "LSTMOptions",
    "LockedDropout",
    "MultiplicativeAttention",
    "RNNCell",
    "WeightDrop",
    "backward_deltas",
    "embedding_dropout",
]
