"""Seq2Seq: learning a tiny task, the searches on hand-built decoders, saving, errors."""

from __future__ import annotations

import itertools
import math
import random

import pytest
import torch

from lstmkit.errors import ConfigError, DataError, ModelFileError
from lstmkit.tasks.seq2seq import Seq2Seq
from lstmkit.tasks.seq2seq.net import Seq2SeqNet, beam_search, greedy_search, length_penalty

QUICK = {"max_epochs": 5, "enable_progress_bar": False, "batch_size": 32, "patience": None}


def reversal_pairs(n: int, seed: int, alphabet: str = "abcde") -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5)))
        out.append((text, text[::-1]))
    return out


@pytest.fixture(scope="module")
def trained() -> Seq2Seq:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: more threads only add synchronisation
    try:
        model = Seq2Seq(attention="additive", hidden_size=32, embed_size=16, val_size=0.1)
        return model.fit(reversal_pairs(640, seed=0), lr=1e-2, seed=0, **QUICK)
    finally:
        torch.set_num_threads(threads)


# --- learning ----------------------------------------------------------------------------------


def test_learns_reversal(trained):
    metrics = trained.evaluate(reversal_pairs(200, seed=1))
    assert list(metrics.index) == ["model"]
    assert list(metrics.columns) == ["exact_match", "bleu", "chrf"]
    scores = metrics.loc["model"]
    assert scores["exact_match"] >= 0.9, scores
    assert 0 <= scores["bleu"] <= 100 + 1e-9 and scores["chrf"] > 50
    assert trained.translate("abcde") == ["edcba"]
    assert trained.history is not None and len(trained.history) == QUICK["max_epochs"]


def test_beam_one_is_greedy_and_beam_agrees_on_easy_inputs(trained):
    texts = [s for s, _ in reversal_pairs(60, seed=2)]
    greedy = trained.translate(texts)
    assert trained.translate(texts, beam_size=1) == greedy
    beam = trained.translate(texts, beam_size=4, length_penalty=0.6)
    assert sum(b == g for b, g in zip(beam, greedy, strict=True)) >= 55


def test_translation_does_not_depend_on_batch_padding(trained):
    alone = trained.translate(["ab"])
    together = trained.translate(["ab", "abcdeabcde", "edcbaedcba"])
    assert together[0] == alone[0]
    # and the decoder's scores are the same, not just the argmax
    a = trained._search(["ab"], beam_size=1, max_len=None, length_penalty=0.0)
    b = trained._search(["ab", "abcdeabcde"], beam_size=1, max_len=None, length_penalty=0.0)
    assert a.scores[0] == pytest.approx(b.scores[0], abs=1e-5)


def test_attention_matrix(trained):
    src, out, weights = trained.attention_weights("abcd")
    assert src == list("abcd")
    assert out == ["d", "c", "b", "a", "<eos>"]
    assert weights.shape == (5, 4)
    assert weights.sum(1) == pytest.approx([1.0] * 5)
    # reversal: output step i looks mostly at source position 3 - i
    assert [int(row.argmax()) for row in weights[:4]] == [3, 2, 1, 0]


def test_save_load_round_trip(trained, tmp_path):
    texts = [s for s, _ in reversal_pairs(30, seed=3)]
    path = trained.save(tmp_path / "model")
    loaded = Seq2Seq.load(path)
    assert loaded.get_config() == trained.get_config()
    assert loaded.translate(texts) == trained.translate(texts)
    assert loaded.translate(texts, beam_size=3) == trained.translate(texts, beam_size=3)
    for (name, a), (_, b) in zip(
        trained.net.state_dict().items(), loaded.net.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert loaded.src_tok.to_dict() == trained.src_tok.to_dict()
    assert len(loaded.history) == len(trained.history)


def test_load_rejects_another_task_and_bad_vocab(trained, tmp_path):
    path = trained.save(tmp_path / "model")
    config = (path / "config.json").read_text()
    (path / "config.json").write_text(config.replace('"Seq2Seq"', '"Forecaster"'))
    with pytest.raises(ModelFileError, match="holds a 'Forecaster' model, not a 'Seq2Seq' model"):
        Seq2Seq.load(path)
    path = trained.save(tmp_path / "model2")
    vocab = trained.src_tok.vocab_size
    text = (path / "config.json").read_text()
    (path / "config.json").write_text(
        text.replace(f'"src_vocab": {vocab}', f'"src_vocab": {vocab + 1}')
    )
    with pytest.raises(ModelFileError, match="saved src tokenizer has"):
        Seq2Seq.load(path)


@pytest.mark.parametrize("attention", ["multiplicative", "none"])
def test_other_attentions_and_teacher_forcing_train(attention):
    model = Seq2Seq(
        attention=attention,
        hidden_size=16,
        embed_size=8,
        teacher_forcing=0.5,
        num_layers=2,
        dropout=0.1,
    )
    model.fit(reversal_pairs(64, seed=4), max_epochs=1, enable_progress_bar=False, batch_size=32)
    out = model.translate(["abc", "de"], beam_size=2)
    assert len(out) == 2 and all(isinstance(s, str) for s in out)
    if attention == "none":
        with pytest.raises(ConfigError, match="this model has no attention"):
            model.attention_weights("abc")


def test_teacher_forcing_below_one_feeds_own_predictions():
    torch.manual_seed(0)
    net = Seq2SeqNet(9, 9, embed_size=8, hidden_size=8, teacher_forcing=0.0)
    src = torch.randint(4, 9, (3, 4))
    src_len = torch.tensor([4, 2, 3])
    tgt_a = torch.randint(4, 9, (3, 5))
    tgt_b = tgt_a.clone()
    tgt_b[:, 1:] = torch.randint(4, 9, (3, 4))
    net.train()
    # with ratio 0 the true tokens after BOS are never read
    torch.testing.assert_close(net(src, src_len, tgt_a), net(src, src_len, tgt_b))
    net.eval()  # evaluation passes always read the given inputs
    assert not torch.allclose(net(src, src_len, tgt_a), net(src, src_len, tgt_b))


# --- searches on hand-built decoders ------------------------------------------------------------

BOS, EOS = 2, 3


def markov_step(table: torch.Tensor):
    """A decoder whose next-token distribution depends only on the previous token:
    ``table[prev]`` holds log-probabilities. The state is a dummy per row."""

    def step(tokens, state):
        return table[tokens], state, None

    return step


def toy_table() -> torch.Tensor:
    # vocabulary: 0 pad, 1 unk, 2 bos, 3 eos, 4 "a", 5 "b"
    probs = torch.full((6, 6), 1e-9, dtype=torch.float64)
    probs[BOS, 4], probs[BOS, 5] = 0.6, 0.4  # greedy takes "a" ...
    probs[4, EOS], probs[4, 4], probs[4, 5] = 0.5, 0.25, 0.25  # ... whose continuations are weak
    probs[5, EOS] = 1.0  # "b" then EOS: 0.4 > 0.6 * 0.5
    for row in (0, 1, 3):
        probs[row, EOS] = 1.0
    return (probs / probs.sum(1, keepdim=True)).log()


def test_beam_finds_what_greedy_misses():
    table = toy_table()
    state = (torch.zeros(1, 1),)
    greedy = greedy_search(markov_step(table), state, 1, bos=BOS, eos=EOS, max_len=5)
    assert greedy.ids == [[4]]  # "a" EOS: 0.6 * 0.5 = 0.3
    assert greedy.scores[0] == pytest.approx(math.log(0.3), abs=1e-6)
    beam = beam_search(
        markov_step(table), (torch.zeros(2, 1),), 1, bos=BOS, eos=EOS, max_len=5, beam_size=2
    )
    assert beam.ids == [[5]]
    assert beam.scores[0] == pytest.approx(math.log(0.4), abs=1e-6)


def test_beam_one_equals_greedy_on_random_networks():
    torch.manual_seed(1)
    net = Seq2SeqNet(12, 11, embed_size=8, hidden_size=16, attention="additive").eval()
    src = torch.randint(4, 12, (6, 7))
    src_len = torch.tensor([7, 3, 5, 1, 6, 2])
    with torch.no_grad():
        memory, state = net.encode(src, src_len)
        g = greedy_search(net.step_fn(memory), state, 6, bos=BOS, eos=EOS, max_len=9)
        b = beam_search(net.step_fn(memory), state, 6, bos=BOS, eos=EOS, max_len=9, beam_size=1)
    assert b.ids == g.ids
    assert b.scores == pytest.approx(g.scores, abs=1e-9)


def _exhaustive(table: torch.Tensor, max_len: int, alpha: float) -> tuple[list[int], float]:
    """The best sequence of at most ``max_len`` tokens (ending in EOS, or cut at max_len)."""
    words = [4, 5, 6]
    best: tuple[float, list[int], float] = (-math.inf, [], 0.0)
    for n in range(0, max_len + 1):
        for body in itertools.product(words, repeat=n):
            seq = [*body, EOS] if n < max_len else list(body)
            prev, logp = BOS, 0.0
            for tok in seq:
                logp += float(table[prev, tok])
                prev = tok
            score = logp / length_penalty(len(seq), alpha)
            if score > best[0]:
                best = (score, list(body), logp)
    return best[1], best[2]


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_is_exact_on_random_markov_decoders(alpha):
    gen = torch.Generator().manual_seed(5)
    # 3 words + EOS: at most 27 * 4 = 108 extensions per step, so a beam of 243 (its 2k = 486
    # candidates, and EOS within the best k) never prunes a path and must find the optimum
    batch, max_len, k = 4, 4, 243
    tables = torch.randn(batch, 7, 7, generator=gen, dtype=torch.float64) * 2
    tables[:, :, :3] = -1e9  # pad, unk and bos are never produced
    tables = torch.log_softmax(tables, dim=2)

    def step(tokens, state):
        row = state[0][:, 0].long()  # which input the beam belongs to
        return tables[row, tokens], state, None

    state = (torch.arange(batch).repeat_interleave(k).unsqueeze(1).double(),)
    found = beam_search(
        step, state, batch, bos=BOS, eos=EOS, max_len=max_len, beam_size=k, alpha=alpha
    )
    for b in range(batch):
        ids, logp = _exhaustive(tables[b], max_len, alpha)
        assert found.ids[b] == ids
        assert found.scores[b] == pytest.approx(logp, abs=1e-9)


def test_length_penalty_formula():
    assert length_penalty(7, 0.0) == 1.0
    assert length_penalty(7, 1.0) == pytest.approx(2.0)
    assert length_penalty(1, 0.5) == pytest.approx(1.0)


# --- files and errors -----------------------------------------------------------------------


def test_missing_pairs_file(tmp_path):
    with pytest.raises(DataError, match="pairs file .*nope.tsv does not exist"):
        Seq2Seq().fit(tmp_path / "nope.tsv")


def test_constructor_errors():
    with pytest.raises(ConfigError, match="attention must be one of 'additive', 'multiplicative'"):
        Seq2Seq(attention="dot")
    with pytest.raises(
        ConfigError, match="tokenizer must be one of 'char', 'word', 'bpe', got 'x'"
    ):
        Seq2Seq(tokenizer="x")
    with pytest.raises(ConfigError, match=r"teacher_forcing must be a number in \[0, 1\], got 2"):
        Seq2Seq(teacher_forcing=2)
    with pytest.raises(ConfigError, match="hidden_size must be a positive int, got 0"):
        Seq2Seq(hidden_size=0)


def test_seed_is_a_fit_option_and_lstm_options_reach_the_decoder_cells():
    with pytest.raises(ConfigError, match=r"seed is a training option: pass it to fit"):
        Seq2Seq(seed=0)
    with pytest.raises(ConfigError, match=r"unknown option\(s\) zoneout"):
        Seq2Seq(zoneout=0.1)  # the decoder's cells have no zoneout
    model = Seq2Seq(hidden_size=8, embed_size=4, num_layers=2, layer_norm=True, peephole=True)
    model.fit(reversal_pairs(20, seed=0), max_epochs=1, enable_progress_bar=False, seed=1)
    assert model.net.encoder.layer_norm and model.net.encoder.peephole
    assert all(cell.options.layer_norm and cell.options.peephole for cell in model.net.cells)


def test_use_before_fit_and_bad_arguments(trained):
    with pytest.raises(ConfigError, match="Seq2Seq.translate needs a trained model"):
        Seq2Seq().translate("abc")
    with pytest.raises(ConfigError, match="beam_size must be a positive int, got 0"):
        trained.translate("abc", beam_size=0)
    with pytest.raises(ConfigError, match="length_penalty must be a finite number >= 0, got -1"):
        trained.translate("abc", beam_size=2, length_penalty=-1)
    with pytest.raises(DataError, match="text 1 .*has no tokens"):
        trained.translate(["abc", ""])
    with pytest.raises(DataError, match="pairs item 0 must be a \\(source, target\\) pair"):
        trained.evaluate([("abc",)])
    with pytest.raises(DataError, match="pairs item 1: the target side is empty"):
        Seq2Seq().fit([("a", "b"), ("c", " ")])
    assert trained.translate([]) == []


def test_evaluate_counts_unrepresentable_references_as_errors(trained):
    # "x" never occurs in the training targets: the reference keeps an <unk> no output can match
    scores = trained.evaluate([("abc", "cba"), ("abc", "cbx")])
    assert scores.loc["model", "exact_match"] == pytest.approx(0.5)
