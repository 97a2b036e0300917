"""Former home of the fused engine's numba path, now :mod:`lstmkit.nn.engine.fused.numba_path`.

Kept so that code written against the old path (e.g. ``fused_numba.ENABLED = False`` to force the
torch-ops path) keeps working: this name is the new module itself, so its switches are shared.
"""

import sys

from lstmkit.nn.engine.fused import numba_path

sys.modules[__name__] = numba_path
