"""Training on several processes: DDP on 2 CPU processes (gloo) gives the model one process gives
with the same global batch, every rank ends with the same weights, and only rank 0 writes.

The DDP runs go through ``ddp_script.py`` in a subprocess: Lightning's "ddp" strategy starts the
running script again for each further rank, which works for a script file but not for pytest
itself. The one-process reference runs here, from the same script's functions.

Tolerance: with SGD, one process and two differ only in the order float32 sums are taken (a rank's
mean, then the mean of the ranks' gradients); after the 9 to 12 steps here weights agree to ~1e-7
(measured 6e-8), so 1e-5 leaves room and still catches a wrong batch split: Lightning's own
distributed sampler (batch_size rows per rank, its own order) leaves weights 0.1 apart.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.train.ddp_run import run_ddp

from lstmkit.errors import ModelFileError
from lstmkit.train.distributed import (
    GlobalBatchShards,
    ShardBatch,
    global_rank,
    is_main_process,
    on_main_process,
    world_size,
)

SCRIPT = Path(__file__).with_name("ddp_script.py")
TOL = 1e-5


def _script():
    spec = importlib.util.spec_from_file_location("ddp_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_ddp(task: str, out: Path) -> str:
    stdout, stderr = run_ddp([sys.executable, str(SCRIPT), task, str(out), "2"])
    return stdout + stderr


def _close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=TOL, atol=TOL)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["forecast", "classify"])
def test_ddp_on_two_processes_matches_one_process(task, tmp_path):
    output = _run_ddp(task, tmp_path)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]

    # every rank holds the same model, and the saved one is it, whichever rank reads it back
    for key, value in ranks[0]["weights"].items():
        assert ranks[1]["weights"][key] == value, key
    for rank in ranks:
        assert rank["predictions"] == ranks[0]["predictions"]
        assert rank["loaded_predictions"] == rank["predictions"]
        assert rank["train_loss"] == ranks[0]["train_loss"]
        assert rank["val_loss"] == ranks[0]["val_loss"]
    # only rank 0 wrote: one model directory, no temporary leftovers, one line of output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "rank0.json", "rank1.json"]
    assert output.count("evaluated on rank") == 1, output
    assert "evaluated on rank 0" in output
    # a second fit in the same processes: tests/cli/test_cli_ddp.py (hold-out fit, then refit)

    # one process, the same global batch of 9 and seed: the same training, up to rounding
    script = _script()
    torch.manual_seed(0)
    single = script.outputs(script.train(task, 1), task)
    for key, value in single["weights"].items():
        _close(ranks[0]["weights"][key], value)
    _close(ranks[0]["train_loss"], single["train_loss"])
    _close(ranks[0]["val_loss"], single["val_loss"])
    _close(ranks[0]["predictions"], single["predictions"])


# --- the global-batch split, without processes --------------------------------------------------


def _shares(monkeypatch, batches, world):
    out = []
    for rank in range(world):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", str(world))
        out.append(list(GlobalBatchShards(batches)))
    return out


def test_each_global_batch_is_split_into_consecutive_shares(monkeypatch):
    batches = [[4, 1, 7, 0, 2], [3, 6, 5], [8]]
    per_rank = _shares(monkeypatch, batches, 2)
    assert [list(s) for s in per_rank[0]] == [[4, 1], [3], [8]]
    assert [list(s) for s in per_rank[1]] == [[7, 0, 2], [6, 5], [8]]
    # the batch of 1 row: rank 0's share is empty, so it gets a placeholder row that weighs nothing
    assert [s.count for s in per_rank[0]] == [2, 1, 0]
    assert [s.count for s in per_rank[1]] == [3, 2, 1]
    assert [s.total for s in per_rank[0]] == [5, 3, 1]
    # every rank steps through as many batches, so no rank waits for a missing gradient
    assert len(per_rank[0]) == len(per_rank[1]) == len(GlobalBatchShards(batches)) == 3


def test_weighted_rank_means_average_to_the_global_mean():
    rows = torch.randn(7, dtype=torch.float64) ** 2
    world = 3
    shares = [rows[0:2], rows[2:4], rows[4:7]]  # 7 * r // 3: 0, 2, 4, 7
    weighted = [ShardBatch(None, len(s), len(rows), world).weight * s.mean() for s in shares]
    assert torch.allclose(sum(weighted) / world, rows.mean(), rtol=1e-12, atol=0)
    assert ShardBatch(None, 0, 1, 2).weight == 0.0


def test_rank_helpers_outside_distributed_training(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert (global_rank(), world_size(), is_main_process()) == (0, 1, True)
    assert on_main_process(lambda: "written", "a file") == "written"
    monkeypatch.setenv("LOCAL_RANK", "1")  # Lightning's launcher, node 0
    assert (global_rank(), is_main_process()) == (1, False)
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("NODE_RANK", "1")  # the first process on the second machine
    assert is_main_process() is False
    monkeypatch.setenv("RANK", "3")  # torchrun
    assert global_rank() == 3


def test_a_failed_write_on_rank_0_is_raised(monkeypatch):
    def fail():
        raise ModelFileError("disk full")

    with pytest.raises(ModelFileError, match="disk full"):
        on_main_process(fail, "the model")


def test_a_share_moves_to_the_device_with_its_bookkeeping():
    """Lightning moves a batch to the GPU by mapping over its tensors; a ShardBatch (a named
    tuple) keeps its counts on the way (checked here with a dtype change on the CPU)."""
    from lightning_utilities.core.apply_func import apply_to_collection

    batch = ShardBatch((torch.ones(2), torch.zeros(2)), 1, 3, 2)
    moved = apply_to_collection(batch, torch.Tensor, lambda t: t.double())
    assert isinstance(moved, ShardBatch)
    assert (moved.count, moved.total, moved.world) == (1, 3, 2)
    assert moved.data[0].dtype == torch.float64
