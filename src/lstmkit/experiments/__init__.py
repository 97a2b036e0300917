"""Classic experiments on recurrent networks, runnable from the CLI.

* :mod:`~lstmkit.experiments.adding` — the adding problem (Hochreiter & Schmidhuber, 1997).
* :mod:`~lstmkit.experiments.demo` — ``lstmkit demo``: an LSTM against a vanilla RNN on it.
"""

from lstmkit.experiments.adding import SOLVED_ERROR, AddingBatch, adding_problem, solved_share

__all__ = ["SOLVED_ERROR", "AddingBatch", "adding_problem", "solved_share"]
