"""Truncated BPTT over a token stream: batching, windows, order and the carried state."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError, DataError, ShapeError
from lstmkit.nn import LSTM
from lstmkit.train.tbptt import (
    CarriedState,
    StreamWindows,
    batchify,
    detach_state,
    stream_loader,
    window_bounds,
)


def test_batchify_cuts_contiguous_streams_and_drops_the_remainder():
    streams = batchify(torch.arange(23), 4)
    assert streams.shape == (4, 5)
    assert streams[1].tolist() == [5, 6, 7, 8, 9]
    assert streams.reshape(-1).tolist() == list(range(20))


def test_batchify_errors():
    with pytest.raises(DataError, match="a stream of 3 tokens is too short for 2 parallel"):
        batchify([1, 2, 3], 2)
    with pytest.raises(ConfigError, match="batch_size must be a positive int, got 0"):
        batchify([1, 2, 3], 0)
    with pytest.raises(ShapeError, match=r"ids must be a 1-D stream, got shape \(2, 2\)"):
        batchify(torch.zeros(2, 2, dtype=torch.long), 1)


@pytest.mark.parametrize("variable", [False, True])
@pytest.mark.parametrize("length,bptt", [(101, 10), (57, 7), (12, 20), (400, 35)])
def test_windows_tile_the_stream_exactly(length, bptt, variable):
    for epoch in range(3):
        bounds = window_bounds(length, bptt, variable=variable, seed=1, epoch=epoch)
        assert bounds[0][0] == 0 and bounds[-1][1] == length - 1
        for (_, stop), (start, _) in zip(bounds, bounds[1:], strict=False):
            assert stop == start
        assert all(stop > start for start, stop in bounds)
        # the same number of windows every epoch: Lightning sizes an epoch once
        assert len(bounds) == len(window_bounds(length, bptt))


def test_variable_windows_move_between_epochs_and_repeat_with_the_seed():
    a = window_bounds(1000, 20, variable=True, seed=3, epoch=0)
    b = window_bounds(1000, 20, variable=True, seed=3, epoch=1)
    assert a != b
    assert a == window_bounds(1000, 20, variable=True, seed=3, epoch=0)
    lengths = [stop - start for start, stop in a]
    assert len(set(lengths)) > 3  # lengths vary around bptt
    assert sum(lengths) / len(lengths) == pytest.approx(20, rel=0.1)


def test_loader_yields_windows_in_order_with_targets_shifted_by_one():
    ids = torch.arange(50)
    loader = stream_loader(ids, batch_size=2, bptt=6)
    streams = batchify(ids, 2)
    seen = []
    for i, (inputs, targets, first) in enumerate(loader):
        assert bool(first) == (i == 0)
        assert torch.equal(targets[:, :-1], inputs[:, 1:])
        assert torch.equal(targets, inputs + 1)  # ids are consecutive integers
        seen.append(inputs)
    assert torch.equal(torch.cat(seen, dim=1), streams[:, :-1])
    assert len(seen) == len(loader) == 4  # 24 input positions per stream in windows of 6
    # a second pass starts again at window 0
    assert bool(next(iter(loader))[2])


def test_variable_loader_changes_layout_per_pass():
    loader = stream_loader(torch.arange(2000), batch_size=2, bptt=30, variable=True, seed=0)
    first = [x.shape[1] for x, _, _ in loader]
    second = [x.shape[1] for x, _, _ in loader]
    assert first != second and len(first) == len(second)
    assert sum(first) == sum(second) == 999


def test_stream_windows_errors():
    with pytest.raises(ShapeError, match="streams must be a 2-D"):
        StreamWindows(torch.arange(10), 3)
    with pytest.raises(ConfigError, match="bptt must be a positive int, got 0"):
        StreamWindows(torch.zeros(2, 5, dtype=torch.long), 0)
    with pytest.raises(IndexError, match="window 9 out of range"):
        StreamWindows(torch.zeros(2, 5, dtype=torch.long), 2)[9]


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(11, 3)
        self.lstm = LSTM(3, 5, num_layers=2, batch_first=True, impl="reference")

    def forward(self, ids, state=None):
        return self.lstm(self.embed(ids), state)


def test_carried_state_equals_running_the_whole_stream_at_once():
    torch.manual_seed(0)
    model = _Tiny().double().eval()
    ids = torch.randint(0, 11, (3 * 40,))
    streams = batchify(ids, 3)
    with torch.no_grad():
        whole, (h_whole, c_whole) = model(streams[:, :-1])
    carry = CarriedState()
    pieces = []
    with torch.no_grad():
        for inputs, _, first in stream_loader(ids, batch_size=3, bptt=7, variable=True, seed=2):
            state = carry.get(model.training, reset=bool(first))
            out, state = model(inputs, state)
            carry.put(model.training, state)
            pieces.append(out)
    torch.testing.assert_close(torch.cat(pieces, dim=1), whole, rtol=1e-12, atol=1e-12)
    h, c = carry.get(False)
    torch.testing.assert_close(h, h_whole, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c, c_whole, rtol=1e-12, atol=1e-12)


def test_carried_state_is_detached_reset_and_kept_per_mode():
    carry = CarriedState()
    x = torch.ones(2, requires_grad=True)
    carry.put(True, [(x * 2, x * 3)])
    kept = carry.get(True)
    assert not kept[0][0].requires_grad and kept[0][1].tolist() == [3.0, 3.0]
    assert carry.get(False) is None  # evaluation has its own slot
    assert carry.get(True, reset=True) is None
    assert carry.get(True) is None
    with pytest.raises(TypeError, match="a recurrent state holds tensors, tuples or lists"):
        detach_state({"h": x})
