"""A picture of what the recogniser hears: the log-mel spectrogram of one utterance, and above
it the CTC posteriors per frame (each output token's probability; the blank's as a grey fill),
on one time axis. Needs matplotlib (imported on call)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit._files import atomic_write


def plot_posteriors(
    model: Any,
    audio: str | os.PathLike[str] | np.ndarray,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Write the plot of ``audio`` (a file or samples at the model's rate) as PNG to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = model.read_items([audio], "audio", transcripts=False)
    samples = items[0][1]
    spectrum = model.features(samples).numpy()  # (frames, n_mels), normalised
    log_probs = model.posteriors([samples])[0]  # (frames / stack, 1 + tokens)
    probs = np.exp(log_probs)
    step = model.features.config.hop / model.rate
    t_spec = np.arange(spectrum.shape[0]) * step
    t_post = (np.arange(probs.shape[0]) + 0.5) * step * model.stack
    transcript = model.predict([samples])[0]

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    top.fill_between(t_post, probs[:, 0], color="0.85", label="blank", step="mid")
    for k, token in enumerate(model.tokens, start=1):
        if probs[:, k].max() > 0.2:
            top.plot(t_post, probs[:, k], drawstyle="steps-mid", label=repr(token))
    top.set_ylabel("P(token)")
    top.set_ylim(0, 1.02)
    top.legend(loc="upper right", ncol=6, fontsize="small")
    top.set_title(f"{title + ': ' if title else ''}transcribed {transcript!r}", fontsize="medium")
    bottom.imshow(
        spectrum.T,
        origin="lower",
        aspect="auto",
        extent=(0, t_spec[-1] + step, 0, spectrum.shape[1]),
        cmap="magma",
    )
    bottom.set_ylabel("mel channel")
    bottom.set_xlabel("time (s)")
    fig.tight_layout()
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    finally:
        plt.close(fig)


__all__ = ["plot_posteriors"]
