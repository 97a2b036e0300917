"""The network behind :class:`~lstmkit.tasks.Seq2Seq` and its two decoding searches.

Encoder: embedding, then a bidirectional :class:`lstmkit.nn.LSTM` run with ``lengths`` (no compute
on padding). Bridge: each layer's final forward and backward states, concatenated, go through a
linear map (``tanh`` for h) to become the decoder's initial state of the same layer.

Decoder: a stack of :class:`lstmkit.nn.LSTMCell` stepped one token at a time, with global
attention as in Luong et al. (2015): the top layer's new state ``h_t`` is the query, the context
``c_t`` is the attention-weighted sum of the encoder outputs, the attentional vector is
``h~_t = tanh(W_c [c_t; h_t])`` and the next-token logits are ``W_out h~_t``. The score function is
additive (Bahdanau: ``v^T tanh(W h_t + U k_s)``) or multiplicative (Luong "general":
``h_t^T W k_s``). With ``input_feeding`` ``h~_{t-1}`` is concatenated to the embedded input token,
so the decoder knows where it attended before. Without attention the logits come from ``h_t``.

``lstm_options`` (:data:`LSTM_OPTIONS`) reach the encoder's LSTM and every decoder cell alike.

The searches (:func:`greedy_search`, :func:`beam_search`) only see a ``step`` function, so they are
tested on hand-built decoders as well as on this network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit._checks import choice
from lstmkit.errors import ConfigError
from lstmkit.nn import LSTM, LSTMCell
from lstmkit.nn.attention import AdditiveAttention, MultiplicativeAttention

ATTENTIONS = ("additive", "multiplicative", "none")
#: The :class:`lstmkit.nn.LSTM` options that an :class:`lstmkit.nn.LSTMCell` takes as well, so
#: encoder and decoder get the same ones; not ``proj_size``, which would change the sizes the
#: bridge and the attention read.
LSTM_OPTIONS = ("peephole", "coupled_gates", "layer_norm", "forget_gate", "forget_bias", "init")

# step(tokens (N,), state) -> (log-probabilities (N, V), new state, attention (N, S) or None);
# state is a tuple of tensors whose first dimension is N (beam search reorders them).
StepFn = Callable[[Tensor, tuple[Tensor, ...]], tuple[Tensor, tuple[Tensor, ...], Tensor | None]]


@dataclass
class Memory:
    """What the decoder reads from the encoder, fixed for the whole decode."""

    keys: Tensor  # (B, S, 2H) encoder outputs
    projected: Tensor | None  # (B, S, A) the keys' part of the attention score, computed once
    mask: Tensor  # (B, S) bool, True at real source positions

    def repeat(self, times: int) -> Memory:
        """Each row repeated ``times`` times in place (row b -> rows b*times .. b*times+times-1)."""
        if times == 1:
            return self
        return Memory(
            self.keys.repeat_interleave(times, 0),
            None if self.projected is None else self.projected.repeat_interleave(times, 0),
            self.mask.repeat_interleave(times, 0),
        )


class Seq2SeqNet(nn.Module):
    """Bidirectional LSTM encoder, bridge, LSTM-cell decoder with optional attention."""

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        *,
        embed_size: int = 64,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.0,
        attention: str = "additive",
        attn_size: int | None = None,
        input_feeding: bool = True,
        teacher_forcing: float = 1.0,
        pad_id: int = 0,
        lstm_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        options = dict(lstm_options or {})
        unknown = sorted(set(options) - set(LSTM_OPTIONS))
        if unknown:
            raise ConfigError(
                f"Seq2SeqNet takes the LSTM options {', '.join(LSTM_OPTIONS)}; got {unknown}"
            )
        self.attention_kind = choice("attention", attention, ATTENTIONS)
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.teacher_forcing = float(teacher_forcing)
        # input feeding passes h~ (the attentional vector); without attention there is none
        self.input_feeding = bool(input_feeding) and attention != "none"
        self.pad_id = pad_id
        key_size = 2 * hidden_size

        self.src_embed = nn.Embedding(src_vocab, embed_size, padding_idx=pad_id)
        self.encoder = LSTM(
            embed_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout,
            bidirectional=True,
            **options,
        )
        self.bridge_h = nn.Linear(key_size, hidden_size)
        self.bridge_c = nn.Linear(key_size, hidden_size)

        self.tgt_embed = nn.Embedding(tgt_vocab, embed_size, padding_idx=pad_id)
        first_in = embed_size + (hidden_size if self.input_feeding else 0)
        self.cells = nn.ModuleList(
            [
                LSTMCell(first_in if k == 0 else hidden_size, hidden_size, **options)
                for k in range(num_layers)
            ]
        )
        self.attn: AdditiveAttention | MultiplicativeAttention | None
        if attention == "additive":
            self.attn = AdditiveAttention(hidden_size, key_size, attn_size or hidden_size)
        elif attention == "multiplicative":
            self.attn = MultiplicativeAttention(hidden_size, key_size, "general")
        else:
            self.attn = None
        self.combine = (
            nn.Linear(key_size + hidden_size, hidden_size, bias=False) if self.attn else None
        )
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, tgt_vocab)

    # --- encoder -----------------------------------------------------------------------------

    def encode(self, src: Tensor, src_len: Tensor) -> tuple[Memory, tuple[Tensor, ...]]:
        """``src (B, S)`` ids and their lengths -> the memory and the decoder's initial state.

        The state is ``(h_1, c_1, ..., h_L, c_L[, feed])``, each ``(B, H)``; ``feed`` (the previous
        attentional vector, zeros at the start) only with input feeding.
        """
        emb = self.drop(self.src_embed(src))  # (B, S, E)
        outputs, (h_n, c_n) = self.encoder(emb, lengths=src_len)  # (B, S, 2H), (2L, B, H)
        batch = src.shape[0]

        def per_layer(s: Tensor) -> Tensor:  # (2L, B, H) -> (L, B, 2H): [forward; backward]
            return s.view(self.num_layers, 2, batch, self.hidden_size).transpose(1, 2).flatten(2)

        h0 = torch.tanh(self.bridge_h(per_layer(h_n)))
        c0 = self.bridge_c(per_layer(c_n))
        state: list[Tensor] = []
        for k in range(self.num_layers):
            state += [h0[k], c0[k]]
        if self.input_feeding:
            state.append(h0.new_zeros(batch, self.hidden_size))
        steps = outputs.shape[1]
        mask = torch.arange(steps, device=src.device)[None, :] < src_len.to(src.device)[:, None]
        projected = self.attn.project_keys(outputs) if self.attn is not None else None
        return Memory(outputs, projected, mask), tuple(state)

    # --- decoder -----------------------------------------------------------------------------

    def decode_step(
        self, tokens: Tensor, state: tuple[Tensor, ...], memory: Memory
    ) -> tuple[Tensor, tuple[Tensor, ...], Tensor | None]:
        """One decoder step: ``tokens (N,)`` -> ``(logits (N, V), new state, weights (N, S))``."""
        x = self.drop(self.tgt_embed(tokens))
        if self.input_feeding:
            x = torch.cat([x, state[-1]], dim=1)
        new_state: list[Tensor] = []
        for k, cell in enumerate(self.cells):
            h, (h, c) = cell(x, (state[2 * k], state[2 * k + 1]))
            new_state += [h, c]
            x = self.drop(h) if k < self.num_layers - 1 else h
        weights = None
        if self.attn is not None:
            assert self.combine is not None
            context, weights = self.attn(h, memory.keys, memory.mask, projected=memory.projected)
            h = torch.tanh(self.combine(torch.cat([context, h], dim=1)))
            if self.input_feeding:
                new_state.append(h)
        logits = self.out(self.drop(h))
        return logits, tuple(new_state), weights

    def forward(self, src: Tensor, src_len: Tensor, tgt_in: Tensor) -> Tensor:
        """Training pass: logits ``(B, T, V)`` for decoder inputs ``tgt_in (B, T)`` (BOS first).

        With ``teacher_forcing < 1`` (in training mode), each sequence's next input is, per step,
        the true token with that probability and the model's own previous argmax otherwise.
        """
        memory, state = self.encode(src, src_len)
        steps = tgt_in.shape[1]
        logits_all = []
        tokens = tgt_in[:, 0]
        sample = self.training and self.teacher_forcing < 1.0
        for t in range(steps):
            logits, state, _ = self.decode_step(tokens, state, memory)
            logits_all.append(logits)
            if t + 1 < steps:
                tokens = tgt_in[:, t + 1]
                if sample:
                    own = logits.detach().argmax(dim=1)
                    use_true = torch.rand(tokens.shape, device=tokens.device) < self.teacher_forcing
                    tokens = torch.where(use_true, tokens, own)
        return torch.stack(logits_all, dim=1)

    def step_fn(self, memory: Memory) -> StepFn:
        """The ``step`` function the searches call, over ``memory`` (already repeated per beam)."""

        def step(tokens: Tensor, state: tuple[Tensor, ...]):
            logits, state, weights = self.decode_step(tokens, state, memory)
            return torch.log_softmax(logits.float(), dim=1), state, weights

        return step


# --- searches --------------------------------------------------------------------------------


@dataclass
class Hypotheses:
    """The result of a search: per input row, the output ids (without BOS/EOS), their total
    log-probability, and the attention weights per output step (when asked for and available)."""

    ids: list[list[int]]
    scores: list[float]
    attention: list[Tensor | None]


def greedy_search(
    step: StepFn,
    state: tuple[Tensor, ...],
    batch: int,
    *,
    bos: int,
    eos: int,
    max_len: int,
    keep_attention: bool = False,
) -> Hypotheses:
    """Take the most likely token at every step until EOS or ``max_len`` output tokens."""
    device = state[0].device if state else torch.device("cpu")
    tokens = torch.full((batch,), bos, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    scores = torch.zeros(batch, dtype=torch.float64, device=device)
    out: list[Tensor] = []
    attn: list[Tensor] = []
    for _ in range(max_len):
        logp, state, weights = step(tokens, state)
        best, tokens = logp.max(dim=1)
        scores += torch.where(done, torch.zeros_like(best), best).double()
        out.append(torch.where(done, torch.full_like(tokens, eos), tokens))
        if keep_attention and weights is not None:
            attn.append(weights)
        done = done | (tokens == eos)
        if bool(done.all()):
            break
    ids_all = torch.stack(out, dim=1).tolist()  # (B, steps)
    result = Hypotheses([], scores.tolist(), [])
    for b, row in enumerate(ids_all):
        n = row.index(eos) if eos in row else len(row)
        result.ids.append(row[:n])
        if attn:
            # the steps that produced this row's tokens, its EOS included
            result.attention.append(torch.stack([a[b] for a in attn[: n + 1]]))
        else:
            result.attention.append(None)
    return result


def length_penalty(length: int, alpha: float) -> float:
    """Wu et al. (2016): ``((5 + length) / 6) ** alpha``; 1 when ``alpha == 0``."""
    return ((5.0 + length) / 6.0) ** alpha


def beam_search(
    step: StepFn,
    state: tuple[Tensor, ...],
    batch: int,
    *,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int,
    alpha: float = 0.0,
    keep_attention: bool = False,
) -> Hypotheses:
    """Batched beam search with length normalisation.

    ``state`` holds ``batch * beam_size`` rows, row ``b * beam_size + j`` being beam ``j`` of input
    ``b`` (all beams of an input start equal). Every step extends each live beam by every token
    and keeps the ``beam_size`` best extensions that do not end in EOS; an extension ending in
    EOS that ranks among the ``beam_size`` best is a finished hypothesis. An input is done once it
    has ``beam_size`` finished hypotheses, or at ``max_len`` output tokens, when its live beams
    count as finished too. The answer is the finished hypothesis with the highest
    ``log P(y) / ((5 + |y|) / 6) ** alpha`` (|y| counts EOS; ``alpha = 0``: the highest
    probability).
    """
    k = beam_size
    device = state[0].device if state else torch.device("cpu")
    rows = batch * k
    tokens = torch.full((rows,), bos, dtype=torch.long, device=device)
    # only beam 0 of each input is live at the start, so the k beams do not start as copies
    scores = torch.full((batch, k), float("-inf"), dtype=torch.float64, device=device)
    scores[:, 0] = 0.0
    history = torch.empty((batch, k, 0), dtype=torch.long, device=device)
    attn_hist: Tensor | None = None  # (batch, k, steps, S)
    finished: list[list[tuple[float, float, list[int], Tensor | None]]] = [[] for _ in range(batch)]
    done = [False] * batch
    offsets = (torch.arange(batch, device=device) * k).unsqueeze(1)  # (batch, 1)

    def finish(b: int, j_score: float, seq: list[int], attn: Tensor | None) -> None:
        # seq includes EOS when it ended with one; the penalty counts it
        finished[b].append((j_score / length_penalty(len(seq), alpha), j_score, seq, attn))

    for _ in range(max_len):
        logp, state, weights = step(tokens, state)  # (rows, V)
        vocab = logp.shape[1]
        cand = scores.unsqueeze(2) + logp.double().view(batch, k, vocab)  # (batch, k, V)
        flat = cand.view(batch, k * vocab)
        top_scores, top_idx = flat.topk(min(2 * k, k * vocab), dim=1)  # (batch, 2k)
        beam_of, token_of = top_idx // vocab, top_idx % vocab
        is_eos = token_of == eos
        # finished hypotheses: EOS extensions among the k best of a live input
        ranks = torch.arange(top_idx.shape[1], device=device)
        new_attn = None
        if keep_attention and weights is not None:
            w = weights.view(batch, k, 1, -1)
            new_attn = w if attn_hist is None else torch.cat([attn_hist, w], dim=2)
        eos_hits = (is_eos & (ranks < k) & torch.isfinite(top_scores)).nonzero().tolist()
        for b, r in eos_hits:
            if done[b]:
                continue
            j = int(beam_of[b, r])
            seq = [*history[b, j].tolist(), eos]
            finish(b, float(top_scores[b, r]), seq, None if new_attn is None else new_attn[b, j])
        for b in range(batch):
            if not done[b] and len(finished[b]) >= k:
                done[b] = True
        if all(done):
            break
        # the k best extensions that do not end in EOS become the live beams
        order = (ranks.unsqueeze(0) + is_eos.long() * top_idx.shape[1]).argsort(dim=1)[:, :k]
        keep_beam = beam_of.gather(1, order)  # (batch, k)
        keep_token = token_of.gather(1, order)
        scores = top_scores.gather(1, order)
        if (keep_token == eos).any():  # fewer than k non-EOS candidates (tiny vocabularies)
            scores = scores.masked_fill(keep_token == eos, float("-inf"))
        history = torch.cat(
            [
                history.gather(1, keep_beam.unsqueeze(2).expand(-1, -1, history.shape[2])),
                keep_token.unsqueeze(2),
            ],
            dim=2,
        )
        if new_attn is not None:
            attn_hist = new_attn.gather(
                1, keep_beam.view(batch, k, 1, 1).expand(-1, -1, *new_attn.shape[2:])
            )
        # reorder the decoder state: beam j of input b now continues old beam keep_beam[b, j]
        index = (offsets + keep_beam).view(-1)
        state = tuple(s.index_select(0, index) for s in state)
        tokens = keep_token.view(-1)
    # inputs still running at max_len: their live beams count as (unterminated) hypotheses
    for b in range(batch):
        if done[b]:
            continue
        for j in range(k):
            score = float(scores[b, j])
            if score == float("-inf"):
                continue
            attn = None if attn_hist is None else attn_hist[b, j]
            finish(b, score, history[b, j].tolist(), attn)
    result = Hypotheses([], [], [])
    for b in range(batch):
        _, raw, seq, attn = max(finished[b], key=lambda h: h[0])
        result.ids.append(seq[:-1] if seq and seq[-1] == eos else seq)
        result.scores.append(raw)
        result.attention.append(attn)
    return result


__all__ = [
    "ATTENTIONS",
    "LSTM_OPTIONS",
    "Hypotheses",
    "Memory",
    "Seq2SeqNet",
    "beam_search",
    "greedy_search",
    "length_penalty",
]
