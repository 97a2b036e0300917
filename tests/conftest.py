"""Settings shared by the whole suite."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Run each test on one intra-op thread.

    The tensors in tests are tiny, so threads only add synchronisation; on a busy 2-core machine
    some ops (layer_norm in float64) then take milliseconds instead of microseconds per call.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
