"""Settings shared by the whole suite."""

from __future__ import annotations

import os

import pytest
import torch

# The fused engine times its two paths on first use and caches the winner on disk
# (lstmkit.nn.engine.fused.path_choice). The suite runs on the fixed limits instead: tests that
# check which path ran stay deterministic, and no test writes a cache outside its tmp_path.
# tests/nn/engine/test_path_choice.py tests the measured choice.
os.environ["LSTMKIT_FUSED_PATH"] = "limits"


@pytest.fixture(autouse=True, scope="session")
def _one_thread_for_shared_fixtures():
    """One thread before any module- or session-scoped fixture trains a model: those are set up
    before the per-test fixture below, and a model fitted on two threads differs (in the last
    bits) from the same fit on one, which broke the contract test's "same seed, same model" check
    depending on the order the tests ran in."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
