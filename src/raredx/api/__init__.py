"""The HTTP interface: a FastAPI app (`create_app`) serving the MME ``/match`` endpoint."""

from raredx.api.app import create_app
from raredx.api.deps import Services

__all__ = ["Services", "create_app"]
