"""raredx: ranked, explained differential diagnosis for rare genetic diseases, offline.

raredx supports, and never replaces, the clinician's judgement.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
