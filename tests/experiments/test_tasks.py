"""The task generators follow the definitions of Hochreiter & Schmidhuber (1997), exactly."""

from __future__ import annotations

import re

import pytest
import torch

from lstmkit.errors import ConfigError
from lstmkit.experiments.adding import adding_problem
from lstmkit.experiments.tasks import (
    REBER_SYMBOLS,
    TASKS,
    CopyTask,
    LongLagTask,
    MultiplicationTask,
    ReberTask,
    TemporalOrder3Task,
    TemporalOrderTask,
    make_task,
    topk_matches,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- every task ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TASKS))
def test_same_seed_same_batch_and_shapes(name):
    task = make_task(name)
    a, b = task.sample(16, gen(3)), task.sample(16, gen(3))
    c = task.sample(16, gen(4))
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.inputs, c.inputs)
    assert a.inputs.shape[0] == 16 and a.inputs.shape[-1] == task.input_size
    assert a.lengths.shape == (16,) and int(a.lengths.max()) <= a.inputs.shape[1]
    # zeros past each sequence's length
    steps = torch.arange(a.inputs.shape[1])
    past_end = steps[None, :] >= a.lengths[:, None]
    assert float(a.inputs[past_end].abs().sum()) == 0.0


def test_make_task_errors_name_the_bad_value():
    with pytest.raises(ConfigError, match="unknown experiment 'nope'; expected one of adding"):
        make_task("nope")
    with pytest.raises(ConfigError, match="experiment 'reber' takes no parameter T"):
        make_task("reber", T=10)
    with pytest.raises(ConfigError, match="T must be an int >= 11, got 5"):
        make_task("adding", T=5)
    with pytest.raises(ConfigError, match="p must be an int >= 2, got 1"):
        make_task("long-lag", p=1)
    with pytest.raises(ConfigError, match="num_sequences must be a positive int, got 0"):
        make_task("copy").sample(0, gen())


# --- adding and multiplication ----------------------------------------------------------------


def test_adding_task_is_the_demo_generator_with_the_paper_target():
    task = make_task("adding", T=100)
    batch = task.sample(500, gen(1))
    ref = adding_problem(500, 100, generator=gen(1))
    assert torch.equal(batch.inputs, ref.inputs) and torch.equal(batch.targets, ref.targets)
    rows = torch.arange(500)
    first, second = batch.info["marked"].T
    x1, x2 = batch.inputs[rows, first, 0], batch.inputs[rows, second, 0]
    torch.testing.assert_close(batch.targets, 0.5 + (x1 + x2) / 4.0)
    assert bool((first < 10).all()) and bool((second < 100 // 2).all())
    assert bool((batch.inputs[rows, first, 1] == 1).all())
    assert bool((batch.lengths >= 100).all()) and bool((batch.lengths <= 110).all())


def test_adding_criterion_is_absolute_error_below_0_04():
    task = make_task("adding", T=20)
    batch = task.sample(4, gen())
    outputs = (batch.targets + torch.tensor([0.0, 0.039, -0.039, 0.041])).unsqueeze(-1)
    _, correct = task.evaluate(outputs, batch)
    assert correct.tolist() == [True, True, True, False]


def test_multiplication_values_markers_and_product():
    task = MultiplicationTask(T=30)
    batch = task.sample(4000, gen(2))
    ref = adding_problem(4000, 30, generator=gen(2))
    # same lengths and markers as the adding problem
    assert torch.equal(batch.inputs[..., 1], ref.inputs[..., 1])
    assert torch.equal(batch.lengths, ref.lengths)
    values = batch.inputs[..., 0]
    assert float(values.min()) >= 0.0 and float(values.max()) <= 1.0
    rows = torch.arange(4000)
    first, second = batch.info["marked"].T
    x1, x2 = values[rows, first], values[rows, second]
    torch.testing.assert_close(batch.targets, x1 * x2)
    at_start = first == 0
    assert bool(at_start.any()), "the seed should draw some sequences with X1 on the first pair"
    assert bool((x1[at_start] == 1.0).all())
    # unmarked, inside: the adding problem's value mapped from [-1, 1) to [0, 1)
    inside = torch.arange(values.shape[1])[None] < batch.lengths[:, None]
    plain = inside & (batch.inputs[..., 1] == 0)
    torch.testing.assert_close(values[plain], (ref.inputs[..., 0][plain] + 1) / 2)


# --- embedded Reber grammar -------------------------------------------------------------------

# The Reber language as a regular expression, written from the grammar independently of the
# generator's table: from state 3 the string runs T*V (P X T* V)* and ends with V or P S.
_FROM3 = r"T*V(?:PXT*V)*(?:V|PS)"
_REBER = rf"B(?:P{_FROM3}|TS*X(?:S|X{_FROM3}))E"
EMBEDDED = re.compile(rf"^B([TP]){_REBER}\1E$")

_INNER = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": "done"},
}


def _legal_after_each(string: str) -> list[set[str]]:
    """Walk the embedded grammar by hand: the legal next symbols after each symbol."""
    out = []
    outer = None
    inner = None
    for pos, sym in enumerate(string):
        if pos == 0:
            nxt = {"T", "P"}
        elif pos == 1:
            outer, inner = sym, 0
            nxt = {"B"}
        elif inner is not None and inner != "done":
            inner = _INNER[inner][sym]
            nxt = {outer} if inner == "done" else set(_INNER[inner])
        elif sym == outer and pos == len(string) - 2:
            nxt = {"E"}
        else:
            nxt = set()
        out.append(nxt)
    return out


def test_every_reber_string_is_accepted_and_embeds_the_same_symbol():
    task = ReberTask()
    symbols, lengths = task.strings(2000, gen(5))
    strings = ["".join(REBER_SYMBOLS[i] for i in row if i >= 0) for row in symbols.tolist()]
    assert [len(s) for s in strings] == lengths.tolist()
    for s in strings:
        match = EMBEDDED.match(s)
        assert match is not None, s
        assert s[1] == s[-2] == match.group(1)
    # both outer branches and both inner branches occur, lengths vary
    assert {s[1] for s in strings} == {"T", "P"}
    assert {s[3] for s in strings} == {"T", "P"}
    assert len(set(lengths.tolist())) > 5


def test_reber_targets_are_the_legal_next_symbols():
    task = ReberTask()
    batch = task.sample(300, gen(6))
    symbols = batch.info["symbols"]
    for n in range(300):
        s = "".join(REBER_SYMBOLS[i] for i in symbols[n].tolist() if i >= 0)
        legal = _legal_after_each(s)[:-1]  # nothing follows the final E
        steps = int(batch.lengths[n])
        assert steps == len(s) - 1
        for t in range(steps):
            got = {REBER_SYMBOLS[k] for k in torch.nonzero(batch.targets[n, t]).flatten().tolist()}
            assert got == legal[t], (s, t)
            assert s[t + 1] in got
            assert batch.inputs[n, t].argmax().item() == REBER_SYMBOLS.index(s[t])
        assert bool(batch.mask[n, :steps].all()) and not bool(batch.mask[n, steps:].any())


def test_topk_criterion():
    targets = torch.tensor([[[1.0, 1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0, 0.0]], [[1, 0, 0, 1.0]]])
    outputs = torch.tensor([[[0.9, 0.8, 0.1, 0.2]], [[0.1, 0.2, 0.3, 0.0]], [[0.5, 0.5, 0.5, 0.6]]])
    # set {0, 1} is the top 2; symbol 1 is not the top 1; {0, 3} ties with 2 at the boundary
    assert topk_matches(outputs, targets)[:, 0].tolist() == [True, False, False]


def test_reber_string_correct_only_when_every_step_is():
    task = ReberTask()
    batch = task.sample(8, gen(7))
    perfect = batch.targets * 4.0 - 2.0  # legal symbols at +2, others at -2
    _, correct = task.evaluate(perfect, batch)
    assert bool(correct.all())
    spoiled = perfect.clone()
    spoiled[0, 0] = -perfect[0, 0]  # after B, T and P must lead
    _, correct = task.evaluate(spoiled, batch)
    assert correct.tolist() == [False] + [True] * 7


# --- temporal order ---------------------------------------------------------------------------


def test_temporal_order_structure_and_labels():
    task = TemporalOrderTask()
    batch = task.sample(3000, gen(8))
    sym, t1, t2 = batch.info["symbols"], batch.info["t1"], batch.info["t2"]
    rows = torch.arange(3000)
    assert bool(((batch.lengths >= 100) & (batch.lengths <= 110)).all())
    assert set(batch.lengths.tolist()) == set(range(100, 111))
    assert set(t1.tolist()) == set(range(10, 21)) and set(t2.tolist()) == set(range(50, 61))
    names = "EBabcdXY"
    for n in range(3000):
        s = "".join(names[i] for i in sym[n].tolist() if i >= 0)
        assert len(s) == int(batch.lengths[n])
        assert s[0] == "E" and s[-1] == "B"
        # positions counted from 1 as in the paper
        first, second = s[int(t1[n]) - 1], s[int(t2[n]) - 1]
        assert first in "XY" and second in "XY"
        middle = s[1:-1].replace(first, "", 1)
        assert set(s[1:-1]) - set("abcd") <= {"X", "Y"}
        assert sum(c in "XY" for c in s) == 2, s
        assert len(middle) == len(s) - 3
        expected = {"XX": 0, "XY": 1, "YX": 2, "YY": 3}[first + second]  # Q, R, S, U
        assert int(batch.targets[n]) == expected
    assert set(batch.targets.tolist()) == {0, 1, 2, 3}
    assert torch.equal(batch.inputs[rows, batch.lengths - 1].argmax(-1), torch.ones(3000).long())


def test_temporal_order_criterion_is_every_output_within_0_3():
    task = TemporalOrderTask()
    batch = task.sample(2, gen())
    logits = torch.full((2, 4), -10.0)
    logits[0, batch.targets[0]] = 10.0  # ~one-hot: correct
    logits[1] = 0.0
    logits[1, batch.targets[1]] = 0.5  # probability 0.36 on the class: wrong
    _, correct = task.evaluate(logits, batch)
    assert correct.tolist() == [True, False]


def test_temporal_order_6b_structure_and_labels():
    task = TemporalOrder3Task()
    assert (task.input_size, task.output_size) == (8, 8)
    batch = task.sample(3000, gen(12))
    sym = batch.info["symbols"]
    where = [batch.info[f"t{j}"] for j in (1, 2, 3)]
    # the paper's ranges: t1 in [10, 20], t2 in [33, 43], t3 in [66, 76], length in [100, 110]
    for t, (lo, hi) in zip(where, ((10, 20), (33, 43), (66, 76)), strict=True):
        assert set(t.tolist()) == set(range(lo, hi + 1))
    assert set(batch.lengths.tolist()) == set(range(100, 111))
    names = "EBabcdXY"
    classes = ["XXX", "XXY", "XYX", "XYY", "YXX", "YXY", "YYX", "YYY"]  # Q R S U V A B C
    for n in range(3000):
        s = "".join(names[i] for i in sym[n].tolist() if i >= 0)
        assert len(s) == int(batch.lengths[n]) and s[0] == "E" and s[-1] == "B"
        relevant = "".join(s[int(t[n]) - 1] for t in where)
        assert sum(c in "XY" for c in s) == 3 and set(relevant) <= {"X", "Y"}, s
        assert int(batch.targets[n]) == classes.index(relevant)
    assert set(batch.targets.tolist()) == set(range(8))
    assert task.baseline_error(batch) == pytest.approx(3 * 0.6931471805599453)


def test_temporal_order_6b_criterion_and_6a_unchanged():
    task = TemporalOrder3Task()
    batch = task.sample(2, gen(13))
    logits = torch.full((2, 8), -10.0)
    logits[0, batch.targets[0]] = 10.0
    logits[1, (batch.targets[1] + 1) % 8] = 10.0  # confident, wrong class
    _, correct = task.evaluate(logits, batch)
    assert correct.tolist() == [True, False]
    # task 6a draws exactly the sequences it drew before 6b shared its generator
    a = TemporalOrderTask().sample(4, gen(8))
    assert a.targets.tolist() == [2, 3, 1, 1] and a.info["t1"].tolist() == [13, 20, 19, 13]


# --- noise-free long time lag ------------------------------------------------------------------


def test_long_lag_final_target_only():
    task = LongLagTask(p=6, targets="final")
    assert task.readout == "last" and task.describe() == "long-lag(p=6, targets=final)"
    assert LongLagTask(p=6).readout == "every" and LongLagTask(p=6).params() == {"p": 6}
    batch = task.sample(40, gen(14))
    seq = batch.info["symbols"]
    assert batch.mask is None and torch.equal(batch.targets, seq[:, 0])  # final = first
    assert torch.equal(batch.inputs.argmax(-1), seq[:, :-1])
    logits = torch.nn.functional.one_hot(batch.targets, 7).double()
    error, correct = task.evaluate(logits, batch)
    assert bool(correct.all()) and error == 0.0
    swapped = torch.nn.functional.one_hot(11 - batch.targets, 7).double()  # x <-> y (5, 6)
    error, correct = task.evaluate(swapped, batch)
    assert not bool(correct.any()) and error == 1.0
    assert float(task.loss(logits * 50, batch)) < 1e-6
    with pytest.raises(ConfigError, match=r"targets must be one of every, final, got 'last'"):
        make_task("long-lag", p=6, targets="last")


@pytest.mark.parametrize("p", [4, 100])
def test_long_lag_has_the_two_paper_sequences(p):
    task = LongLagTask(p=p)
    batch = task.sample(400, gen(9))
    seq = batch.info["symbols"]
    assert seq.shape == (400, p + 1)
    x, y = p - 1, p  # a_p = x, a_{p+1} = y (0-based indices)
    assert set(seq[:, 0].tolist()) == {x, y}
    assert torch.equal(seq[:, 0], seq[:, -1])
    assert torch.equal(seq[:, 1:-1], torch.arange(p - 1).expand(400, -1))  # a_1 ... a_{p-1}
    share_y = float((seq[:, 0] == y).double().mean())
    assert 0.4 < share_y < 0.6
    assert torch.equal(batch.inputs.argmax(-1), seq[:, :-1])
    assert torch.equal(batch.targets, seq[:, 1:])
    assert batch.inputs.shape == (400, p, p + 1)


def test_long_lag_correct_needs_the_final_symbol():
    task = LongLagTask(p=5)
    batch = task.sample(6, gen(10))
    logits = torch.nn.functional.one_hot(batch.targets, 6).float()
    error, correct = task.evaluate(logits, batch)
    assert bool(correct.all()) and error == 0.0
    wrong_final = logits.clone()
    wrong_final[:, -1] = torch.nn.functional.one_hot(4 + (batch.targets[:, -1] == 4).long(), 6)
    error, correct = task.evaluate(wrong_final, batch)
    assert not bool(correct.any()) and error == 1.0


# --- copy -----------------------------------------------------------------------------------------


def test_copy_structure():
    task = CopyTask(T=7, K=3)
    batch = task.sample(50, gen(11))
    sym, data = batch.info["symbols"], batch.info["data"]
    assert sym.shape == (50, 7 + 6)
    assert torch.equal(sym[:, :3], data) and bool(((data >= 1) & (data <= 8)).all())
    assert bool((sym[:, 3:9] == 0).all()) and bool((sym[:, 9] == 9).all())
    assert bool((sym[:, 10:] == 0).all())
    assert bool((batch.targets[:, :10] == 0).all()) and torch.equal(batch.targets[:, 10:], data)
