"""``run_demo`` end to end, shortened: a fixed number of steps, so the result is deterministic."""

import pytest
import torch

from lstmkit.experiments.adding import TARGET_VARIANCE
from lstmkit.experiments.demo import run_demo


@pytest.mark.slow
def test_short_demo_lstm_beats_rnn():
    threads = torch.get_num_threads()
    result = run_demo(seconds=300, max_steps=800, seq_len=50, seed=0, test_size=500)
    assert torch.get_num_threads() == threads  # the demo's own thread count is undone
    lstm, rnn = result.by_model("LSTM"), result.by_model("RNN")
    assert lstm.steps == rnn.steps == 800
    assert lstm.sequences_seen == 800 * 16
    assert abs(result.baseline_mse - TARGET_VARIANCE) < 0.01
    assert lstm.test_mse < rnn.test_mse
    assert lstm.test_mse < 0.5 * result.baseline_mse
    assert 0.0 <= rnn.solved <= 1.0 and lstm.train_seconds > 0
    assert set(result.to_dict()) >= {"baseline_mse", "results", "seq_len", "hidden_size"}
