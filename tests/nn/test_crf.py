"""CRF: log partition, NLL and Viterbi against brute-force enumeration of every tag path."""

from __future__ import annotations

import itertools

import pytest
import torch

from lstmkit.errors import ConfigError, ShapeError
from lstmkit.nn.crf import CRF, FORBIDDEN, bio_constraints, transition_constraints


def _crf(k: int, seed: int = 0, constraints=None) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(k, constraints=constraints).double()
    with torch.no_grad():  # larger than the default init so paths differ clearly
        crf.transitions.normal_()
        crf.start_transitions.normal_()
        crf.end_transitions.normal_()
    return crf


def _path_score(crf: CRF, em: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    """s(y) written straight from the definition, with the constraint penalties."""
    trans, start, end = crf._scores(torch.float64)
    total = start[path[0]] + em[0, path[0]]
    for t in range(1, len(path)):
        total = total + trans[path[t - 1], path[t]] + em[t, path[t]]
    return total + end[path[-1]]


def _brute(crf: CRF, em: torch.Tensor, n: int):
    """(log Z, {path: score}) over all K**n paths of the first n steps."""
    k = em.shape[1]
    scores = {p: _path_score(crf, em, p) for p in itertools.product(range(k), repeat=n)}
    log_z = torch.logsumexp(torch.stack(list(scores.values())), dim=0)
    return log_z, scores


LENGTHS = [4, 1, 3, 2]


@pytest.fixture
def batch():
    torch.manual_seed(1)
    em = torch.randn(len(LENGTHS), 4, 3, dtype=torch.float64)
    tags = torch.randint(0, 3, (len(LENGTHS), 4))
    for b, n in enumerate(LENGTHS):
        tags[b, n:] = -100  # padding values must not matter
    return em, tags, torch.tensor(LENGTHS)


def test_log_partition_and_nll_match_brute_force(batch):
    em, tags, lengths = batch
    crf = _crf(3)
    log_z = crf.log_partition(em, lengths)
    nll = crf.nll(em, tags, lengths)
    for b, n in enumerate(LENGTHS):
        ref_z, scores = _brute(crf, em[b], n)
        gold = tuple(tags[b, :n].tolist())
        torch.testing.assert_close(log_z[b], ref_z, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(nll[b], ref_z - scores[gold], rtol=1e-12, atol=1e-12)
    # forward() is nll(); probabilities of all paths sum to one
    torch.testing.assert_close(crf(em, tags, lengths), nll)
    assert (nll > 0).all()


def test_padding_content_does_not_matter(batch):
    em, tags, lengths = batch
    crf = _crf(3)
    noisy = em.clone()
    for b, n in enumerate(LENGTHS):
        noisy[b, n:] = 1e3
    torch.testing.assert_close(crf.nll(noisy, tags, lengths), crf.nll(em, tags, lengths))
    assert crf.decode(noisy, lengths) == crf.decode(em, lengths)


def test_viterbi_is_brute_force_argmax(batch):
    em, _, lengths = batch
    for seed in range(5):
        crf = _crf(3, seed=seed)
        paths, best = crf.viterbi(em, lengths)
        for b, n in enumerate(LENGTHS):
            _, scores = _brute(crf, em[b], n)
            ref = max(scores, key=lambda p: float(scores[p].detach()))
            assert tuple(paths[b]) == ref
            assert len(paths[b]) == n
            torch.testing.assert_close(best[b], scores[ref])


def test_gradcheck(batch):
    em, tags, lengths = batch
    crf = _crf(3)
    em = em.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda e: crf.nll(e, tags, lengths), (em,))


def test_parameter_gradients_match_brute_force(batch):
    em, tags, lengths = batch
    crf = _crf(3)
    params = (crf.transitions, crf.start_transitions, crf.end_transitions)
    got = torch.autograd.grad(crf.nll(em, tags, lengths).sum(), params)
    total = 0
    for b, n in enumerate(LENGTHS):
        ref_z, scores = _brute(crf, em[b], n)
        total = total + ref_z - scores[tuple(tags[b, :n].tolist())]
    ref = torch.autograd.grad(total, params)
    for g, r in zip(got, ref, strict=True):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)


def test_gradient_matches_expected_counts():
    """d log Z / d emissions[t, k] is the marginal p(y_t = k), which sums to 1 over k."""
    crf = _crf(3)
    em = torch.randn(1, 4, 3, dtype=torch.float64, requires_grad=True)
    crf.log_partition(em, [3]).sum().backward()
    marg = em.grad[0]
    torch.testing.assert_close(marg[:3].sum(1), torch.ones(3, dtype=torch.float64))
    assert torch.all(marg[3] == 0)  # padding step gets no gradient


def test_bio_constraints_table():
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    allowed, start, end = bio_constraints(tags)
    assert start.tolist() == [True, True, False, True, False]
    assert end.all()
    ok = {(a, b) for a in tags for b in tags if allowed[tags.index(a), tags.index(b)]}
    assert ("B-PER", "I-PER") in ok and ("I-PER", "I-PER") in ok
    assert ("O", "I-PER") not in ok and ("B-LOC", "I-PER") not in ok
    assert ("I-LOC", "B-PER") in ok and ("O", "O") in ok


def test_iobes_constraints():
    tags = ["O", "B-X", "I-X", "E-X", "S-X"]
    allowed, start, end = transition_constraints(tags, "IOBES")
    assert start.tolist() == [True, True, False, False, True]
    assert end.tolist() == [True, False, False, True, True]
    assert allowed[1].tolist() == [False, False, True, True, False]  # after B-X: I-X or E-X
    assert allowed[:, 3].tolist() == [False, True, True, False, False]  # E-X after B-X/I-X


def test_constrained_decoding_respects_constraints():
    tags = ["O", "B-A", "I-A", "B-B", "I-B"]
    constraints = bio_constraints(tags)
    allowed, start, _ = constraints
    torch.manual_seed(0)
    em = torch.randn(6, 5, 5, dtype=torch.float64) * 3
    em[:, :, 2] += 4  # pushes unconstrained decoding towards I-A everywhere
    crf = _crf(5, constraints=constraints)
    lengths = torch.tensor([5, 4, 3, 2, 1, 5])
    for path in crf.decode(em, lengths):
        assert start[path[0]]
        for a, b in zip(path, path[1:], strict=False):
            assert allowed[a, b], (tags[a], tags[b])
    # the constrained optimum is the brute-force optimum over allowed paths only
    _, scores = _brute(crf, em[0], 5)
    legal = {p: s.detach() for p, s in scores.items() if float(s.detach()) > FORBIDDEN / 2}
    assert tuple(crf.decode(em[:1])[0]) == max(legal, key=lambda p: float(legal[p]))
    # and the partition function sums over (essentially) allowed paths
    torch.testing.assert_close(
        crf.log_partition(em[:1])[0], torch.logsumexp(torch.stack(list(legal.values())), 0)
    )


def test_errors():
    crf = CRF(3)
    with pytest.raises(ShapeError, match=r"emissions must be \(batch, time, num_tags=3\)"):
        crf.decode(torch.zeros(2, 4, 5))
    with pytest.raises(ShapeError, match=r"lengths must lie in 1..4"):
        crf.nll(torch.zeros(2, 4, 3), torch.zeros(2, 4, dtype=torch.long), [0, 4])
    with pytest.raises(ShapeError, match=r"tags must lie in 0..2"):
        crf.nll(torch.zeros(1, 2, 3), torch.tensor([[0, 7]]))
    with pytest.raises(ConfigError, match="num_tags must be a positive int"):
        CRF(0)
    with pytest.raises(ConfigError, match=r"tags \['NN'\] do not follow the BIO scheme"):
        bio_constraints(["O", "NN"])
    with pytest.raises(ConfigError, match="scheme must be one of"):
        transition_constraints(["O"], "BILOU")
