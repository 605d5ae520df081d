"""raredx: ranked, explained differential diagnosis for rare genetic diseases, offline.

>>> import raredx
>>> result = raredx.diagnose("HP:0001744; HP:0002716; HP:0001873", age="6y")  # doctest: +SKIP

raredx supports, and never replaces, the clinician's judgement.
"""

from __future__ import annotations

import typing

__version__ = "0.1.0"

__all__ = ["Diagnosis", "__version__", "diagnose"]

if typing.TYPE_CHECKING:
    from raredx.diagnosis import diagnose
    from raredx.rank.result import Diagnosis


def __getattr__(name: str) -> typing.Any:
    # Lazy so that `import raredx` (the CLI's --version, the KB compiler) stays free of numpy
    # and the phenotype model; `raredx.diagnose(...)` imports them on first use.
    if name == "diagnose":
        from raredx.diagnosis import diagnose as function

        return function
    if name == "Diagnosis":
        from raredx.rank.result import Diagnosis as cls

        return cls
    raise AttributeError(f"module 'raredx' has no attribute {name!r}")
