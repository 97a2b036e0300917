"""The network behind :class:`~lstmkit.tasks.LanguageModel`: the AWD-LSTM recipe (Merity, Keskar &
Socher, 2018) on lstmkit's LSTM.

An embedding, stacked single-layer LSTMs (so each layer can have its own size), a linear decoder
whose weight is the embedding matrix when ``tie_weights`` (the last layer's hidden size is then
the embedding size), and the regularisers (embedding dropout, locked dropout, DropConnect on the
recurrent matrices). A tied network's ``state_dict`` holds the shared matrix once, as
``embedding.weight`` (safetensors refuses tensors that share memory); loading fills the decoder
from it.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lstmkit.nn import LSTM
from lstmkit.nn.regularization import LockedDropout, WeightDrop, embedding_dropout

State = list[tuple[Tensor, Tensor]]


class LMNet(nn.Module):
    """Embedding -> stacked LSTM layers -> linear decoder (tied to the embedding if asked).

    ``forward(ids (B, T), state)`` returns ``(logits (B, T, V), state, raw, dropped)``: the new
    state (one ``(h, c)`` per layer, each ``(1, B, size)``) and the last layer's output before and
    after the output dropout (for TAR and AR). ``lstm_options`` go to every LSTM layer.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embed_size: int,
        hidden_size: int,
        num_layers: int,
        tie_weights: bool,
        embed_dropout: float,
        input_dropout: float,
        hidden_dropout: float,
        output_dropout: float,
        weight_drop: float,
        lstm_options: dict[str, Any],
    ) -> None:
        super().__init__()
        self.tie_weights = tie_weights
        self.embed_dropout = embed_dropout
        self.embedding = nn.Embedding(vocab_size, embed_size)
        layers = []
        for k in range(num_layers):
            last = k == num_layers - 1
            in_size = embed_size if k == 0 else hidden_size
            size, proj = hidden_size, 0
            if last and tie_weights:
                # The decoder reads the last layer's output with the embedding matrix: as in
                # AWD-LSTM that layer has embed_size units, or one layer projects down to it.
                if num_layers == 1 and hidden_size > embed_size:
                    proj = embed_size
                else:
                    size = embed_size
            lstm: nn.Module = LSTM(in_size, size, batch_first=True, proj_size=proj, **lstm_options)
            if weight_drop > 0:
                lstm = WeightDrop(lstm, weight_drop)
            layers.append(lstm)
        self.layers = nn.ModuleList(layers)
        self.input_drop = LockedDropout(input_dropout)
        self.hidden_drop = LockedDropout(hidden_dropout)
        self.output_drop = LockedDropout(output_dropout)
        out_size = embed_size if tie_weights else hidden_size
        self.decoder = nn.Linear(out_size, vocab_size)
        # AWD-LSTM's initialisation: a small uniform embedding (it is also the tied decoder,
        # where N(0, 1) rows would give huge initial logits) and a zero decoder bias.
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
            self.register_state_dict_post_hook(_drop_tied_decoder)
            self.register_load_state_dict_pre_hook(_fill_tied_decoder)
        else:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(
        self, ids: Tensor, state: State | None = None
    ) -> tuple[Tensor, State, Tensor, Tensor]:
        x = embedding_dropout(self.embedding, ids, self.embed_dropout, self.training)
        x = self.input_drop(x)  # (B, T, E)
        new_state: State = []
        for k, layer in enumerate(self.layers):
            x, (h, c) = layer(x, None if state is None else state[k])
            new_state.append((h, c))
            if k < len(self.layers) - 1:
                x = self.hidden_drop(x)
        raw = x
        dropped = self.output_drop(x)
        return self.decoder(dropped), new_state, raw, dropped


def _drop_tied_decoder(module: nn.Module, state_dict: dict, prefix: str, local_metadata) -> None:
    state_dict.pop(prefix + "decoder.weight", None)


def _fill_tied_decoder(module: nn.Module, state_dict: dict, prefix: str, *args: Any) -> None:
    key = prefix + "embedding.weight"
    if key in state_dict:
        state_dict.setdefault(prefix + "decoder.weight", state_dict[key])


__all__ = ["LMNet", "State"]
