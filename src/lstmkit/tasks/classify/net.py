"""The network behind :class:`~lstmkit.tasks.SequenceClassifier`: embedding (or numeric
features), a (bi)LSTM run with the true lengths, masked pooling over time, a linear head.

Padding costs nothing and changes nothing: the LSTM gets ``lengths`` (its engines skip the padded
steps, and the backward direction starts at each sequence's own last token), and every pooling
ignores the padded positions exactly, so appending padding leaves the logits unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.errors import ConfigError
from lstmkit.nn import LSTM, HiddenDecay, InputDecay, backward_deltas
from lstmkit.tasks.lstm_options import task_lstm

POOLINGS = ("last", "mean", "max", "attention")


def length_mask(lengths: Tensor, steps: int) -> Tensor:
    """``(B, T)`` bool, True at the real (non-padding) positions."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def masked_mean(h: Tensor, mask: Tensor) -> Tensor:
    """Mean over the real steps: ``h (B, T, D)``, ``mask (B, T)`` -> ``(B, D)``."""
    weights = mask.to(h.dtype).unsqueeze(-1)  # (B, T, 1)
    return (h * weights).sum(1) / weights.sum(1).clamp_min(1.0)


def masked_max(h: Tensor, mask: Tensor) -> Tensor:
    """Maximum over the real steps (padding never wins): ``(B, T, D)`` -> ``(B, D)``."""
    return h.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)


class AttentionPooling(nn.Module):
    """Additive self-attention pooling (Bahdanau-style scores against a learned query):
    ``e_t = v · tanh(W h_t + b)``, ``a = softmax(e)`` over the real steps, ``out = Σ a_t h_t``.
    """

    def __init__(self, size: int, attention_size: int | None = None) -> None:
        super().__init__()
        attention_size = attention_size or size
        self.proj = nn.Linear(size, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def weights(self, h: Tensor, mask: Tensor) -> Tensor:
        """Attention weights ``(B, T)``, exactly 0 at padding."""
        e = self.score(torch.tanh(self.proj(h))).squeeze(-1)  # (B, T)
        return torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:
        return torch.einsum("bt,btd->bd", self.weights(h, mask), h)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation over channels (Hu et al. 2018), the squeeze a masked mean."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid()
        )

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:  # h (B, C, T)
        return h * self.fc(masked_mean(h.transpose(1, 2), mask)).unsqueeze(-1)


class ConvBranch(nn.Module):
    """The fully convolutional branch of LSTM-FCN / MLSTM-FCN (Karim et al. 2018, 2019), our
    own code: three ``Conv1d`` blocks (kernels 8, 5, 3; batch norm, ReLU; squeeze-and-excitation
    after the first two), then global average pooling over the real steps.

    Padding changes nothing at the real steps: every block's output is zeroed at the padding,
    so a step near a sequence's end sees zeros beyond it, as the same sequence alone would under
    'same' padding; in eval mode batch norm uses its running statistics, so the pooled features
    do not depend on the batch. (In training the batch statistics include the padded steps.)
    """

    KERNELS = (8, 5, 3)

    def __init__(self, n_features: int, channels: tuple[int, int, int] = (64, 128, 64)) -> None:
        super().__init__()
        sizes = (n_features, *channels)
        self.convs = nn.ModuleList(
            nn.Conv1d(sizes[i], sizes[i + 1], k, bias=False) for i, k in enumerate(self.KERNELS)
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(c) for c in channels)
        self.excite = nn.ModuleList(SqueezeExcite(c) for c in channels[:2])
        self.output_size = channels[-1]

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:  # x (B, T, F) -> (B, C)
        keep = mask.unsqueeze(1).to(x.dtype)  # (B, 1, T)
        h = x.transpose(1, 2) * keep
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            k = conv.kernel_size[0]  # 'same' padding, the extra zero on the right as torch's
            h = conv(nn.functional.pad(h, ((k - 1) // 2, k - 1 - (k - 1) // 2)))
            h = torch.relu(norm(h)) * keep
            if i < len(self.excite):
                h = self.excite[i](h, mask)
        return masked_mean(h.transpose(1, 2), mask)


class ClassifierNet(nn.Module):
    """``(inputs, lengths) -> logits (B, n_classes)``.

    Args:
        n_classes: output classes.
        vocab_size: token inputs ``(B, T)`` int64 through an embedding of ``embed_size``
            (row 0, the padding id, is zeros); ``None`` for numeric inputs ``(B, T, n_features)``.
        n_features: input features per step for numeric inputs.
        pooling: "last" (final state; forward final + backward final when bidirectional),
            "mean", "max" or "attention" over the outputs of the last layer.
        dropout: on the embeddings / inputs, between stacked layers and before the head.
        conv_branch: numeric inputs only: a :class:`ConvBranch` beside the LSTM (LSTM-FCN); the
            head reads both pooled vectors, concatenated.
        lstm_options: passed to :class:`lstmkit.nn.LSTM` (``impl``, ``layer_norm``, ...).
        input_decay: numeric inputs laid out ``[carried value, mask, δ]`` (``F`` channels each,
            ``n_features = 3F``; see :mod:`lstmkit.tasks.classify.missing`): the carried values
            decay toward the mean by :class:`lstmkit.nn.InputDecay` before the LSTM and the
            convolutional branch read them (GRU-D's input decay).
        hidden_decay: with ``input_decay``: the LSTM's hidden state decays before each step by
            :class:`lstmkit.nn.HiddenDecay` with the ``δ`` inputs (the backward direction with
            the time to the next observation, :func:`lstmkit.nn.backward_deltas`): GRU-D's
            hidden-state decay. ``lstm`` is then the decay layer, the LSTM its ``rnn``.
    """

    def __init__(
        self,
        *,
        n_classes: int,
        vocab_size: int | None = None,
        embed_size: int = 100,
        n_features: int | None = None,
        hidden_size: int = 128,
        num_layers: int = 1,
        bidirectional: bool = True,
        pooling: str = "last",
        dropout: float = 0.0,
        conv_branch: bool = False,
        lstm_options: dict[str, Any] | None = None,
        input_decay: bool = False,
        hidden_decay: bool = False,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ConfigError(
                f"pooling must be one of {', '.join(map(repr, POOLINGS))}, got {pooling!r}"
            )
        if (vocab_size is None) == (n_features is None):
            raise ConfigError("ClassifierNet needs exactly one of vocab_size and n_features")
        self.pooling = pooling
        self.bidirectional = bool(bidirectional)
        self.embedding = (
            nn.Embedding(vocab_size, embed_size, padding_idx=0) if vocab_size is not None else None
        )
        input_size = embed_size if vocab_size is not None else int(n_features)  # type: ignore[arg-type]
        self.input_dropout = nn.Dropout(dropout)
        self.lstm: LSTM | HiddenDecay = task_lstm(
            input_size,
            hidden_size,
            num_layers,
            dropout,
            bidirectional=self.bidirectional,
            options=lstm_options,
        )
        out_size = self.lstm.output_size * (2 if self.bidirectional else 1)
        self.attention = AttentionPooling(out_size) if pooling == "attention" else None
        if conv_branch and vocab_size is not None:
            raise ConfigError("conv_branch reads numeric features; token inputs have none")
        self.conv = ConvBranch(input_size) if conv_branch else None
        self.head_dropout = nn.Dropout(dropout)
        self.decay = None
        if input_decay:
            if n_features is None or n_features % 3:
                raise ConfigError(
                    f"input_decay reads [value, mask, delta] per channel: n_features must be a "
                    f"multiple of 3, got {n_features!r}"
                )
            self.decay = InputDecay(n_features // 3)
        if hidden_decay:
            if self.decay is None:
                raise ConfigError(
                    "hidden_decay reads the delta inputs of the [value, mask, delta] layout; it "
                    "needs input_decay=True"
                )
            self.lstm = HiddenDecay(self.lstm, n_features // 3)
        self.head = nn.Linear(out_size + (self.conv.output_size if self.conv else 0), n_classes)

    def decayed(self, x: Tensor) -> Tensor:
        """With ``input_decay``: ``[x̂, mask, δ]`` from ``[carried, mask, δ]``; else ``x``."""
        if self.decay is None:
            return x
        carried, m, delta = x.chunk(3, dim=-1)
        return torch.cat([self.decay(carried, m, delta), m, delta], dim=-1)

    def encode(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
        """The last layer's outputs ``(B, T, D)``, the mask ``(B, T)`` and the final state
        (``x`` already through :meth:`decayed`)."""
        if self.embedding is not None:
            x = self.embedding(x)  # (B, T, E)
        if isinstance(self.lstm, HiddenDecay):
            _, m, delta = x.chunk(3, dim=-1)  # read before the input dropout
            back = backward_deltas(m, delta, lengths) if self.bidirectional else None
            out, (h_n, c_n) = self.lstm(self.input_dropout(x), delta, lengths, back)
        else:
            out, (h_n, c_n) = self.lstm(self.input_dropout(x), lengths=lengths)  # (B, T, D)
        return out, length_mask(lengths.to(out.device), out.shape[1]), (h_n, c_n)

    def pool(self, out: Tensor, mask: Tensor, h_n: Tensor) -> Tensor:
        if self.pooling == "last":
            # h_n is (layers * directions, B, H); the last layer's forward state was taken at each
            # sequence's own last step and its backward state at step 0 after reading it all.
            if self.bidirectional:
                return torch.cat([h_n[-2], h_n[-1]], dim=-1)
            return h_n[-1]
        if self.pooling == "mean":
            return masked_mean(out, mask)
        if self.pooling == "max":
            return masked_max(out, mask)
        assert self.attention is not None
        return self.attention(out, mask)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        x = self.decayed(x)
        out, mask, (h_n, _) = self.encode(x, lengths)
        pooled = self.pool(out, mask, h_n)
        if self.conv is not None:
            pooled = torch.cat([pooled, self.conv(x, mask)], dim=-1)
        return self.head(self.head_dropout(pooled))

    @torch.no_grad()
    def attention_weights(self, x: Tensor, lengths: Tensor) -> Tensor:
        """``(B, T)`` attention weights (attention pooling only)."""
        if self.attention is None:
            raise ConfigError(f"attention weights need pooling='attention', not {self.pooling!r}")
        out, mask, _ = self.encode(self.decayed(x), lengths)
        return self.attention.weights(out, mask)


__all__ = [
    "POOLINGS",
    "AttentionPooling",
    "ClassifierNet",
    "ConvBranch",
    "length_mask",
    "masked_max",
    "masked_mean",
]
