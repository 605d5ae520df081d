"""Fixtures for lab-result tests: the example files under tests/labs/data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def lab_data() -> Path:
    """tests/labs/data: realistic pediatric lab files (CSV, French TSV, FHIR Bundle)."""
    return DATA
