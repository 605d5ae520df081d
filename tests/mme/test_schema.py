"""MME messages: what the specification requires is enforced, the rest tolerated."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from raredx.mme.schema import MatchRequest, MatchResponse, Patient, media_type, parse_media_type

CONTACT = {"name": "Dr X", "href": "mailto:x@example.org"}


def test_media_types() -> None:
    assert media_type("1.0") == "application/vnd.ga4gh.matchmaker.v1.0+json"
    assert parse_media_type("application/vnd.ga4gh.matchmaker.v1.1+json; charset=utf-8") == (1, 1)
    assert parse_media_type("Application/VND.ga4gh.matchmaker.v2.0+JSON") == (2, 0)
    for bad in (
        "application/json",
        "",
        "application/vnd.ga4gh.matchmaker+json",
        "application/vnd.ga4gh.matchmaker.v1+json",
    ):
        assert parse_media_type(bad) is None


def test_a_full_v11_patient_is_read() -> None:
    patient = Patient.model_validate(
        {
            "id": "P1",
            "label": "patient one",
            "contact": {**CONTACT, "institution": "H", "roles": ["clinician"], "email": "x@y"},
            "species": "NCBITaxon:9606",
            "sex": "FEMALE",
            "ageOfOnset": "HP:0003593",
            "inheritanceMode": "HP:0000007",
            "disorders": [{"id": "MIM:601859", "label": "ALPS"}, {"id": "Orphanet:3261"}],
            "features": [{"id": "HP:0001744", "observed": "no", "ageOfOnset": "HP:0011463"}],
            "genomicFeatures": [
                {
                    "gene": {"id": "ENSG00000026103", "_geneName": "FAS"},
                    "variant": {
                        "assembly": "GRCh37.p13",
                        "referenceName": "10",
                        "start": 90768000,
                        "end": 90768001,
                        "referenceBases": "C",
                        "alternateBases": "T",
                    },
                    "zygosity": 1,
                    "type": {"id": "SO:0001583", "label": "MISSENSE"},
                }
            ],
            "_nonStandard": {"anything": 1},
            "test": True,
        }
    )
    assert patient.features[0].observed == "no"
    assert patient.genomicFeatures[0].variant is not None


@pytest.mark.parametrize(
    "change",
    [
        {"id": ""},
        {"contact": {"name": "x"}},
        {"contact": {"name": "x", "href": "javascript:alert(1)"}},
        {"sex": "male"},
        {"species": "NCBITaxon:10090"},
        {"features": [{"id": "HP:1"}]},
        {"features": [{"id": "HP:0001744", "observed": "unknown"}]},
        {"features": [], "genomicFeatures": []},
        {"genomicFeatures": [{"gene": {"id": "FAS"}, "zygosity": 3}]},
        {
            "genomicFeatures": [
                {
                    "gene": {"id": "FAS"},
                    "variant": {"assembly": "hg19", "referenceName": "1", "start": 1},
                }
            ]
        },
        {"disorders": [{"id": "601859"}]},
    ],
)
def test_violations_are_refused(change: dict[str, Any]) -> None:
    base: dict[str, Any] = {"id": "P1", "contact": CONTACT, "features": [{"id": "HP:0001744"}]}
    with pytest.raises(ValidationError):
        MatchRequest.model_validate({"patient": {**base, **change}})


def test_scores_must_be_in_0_1() -> None:
    patient = {"id": "P1", "contact": CONTACT, "features": [{"id": "HP:0001744"}]}
    MatchResponse.model_validate({"results": [{"score": {"patient": 1.0}, "patient": patient}]})
    with pytest.raises(ValidationError):
        MatchResponse.model_validate({"results": [{"score": {"patient": 1.5}, "patient": patient}]})
    with pytest.raises(ValidationError):
        MatchResponse.model_validate({})


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=12) | st.integers(), max_size=6))
def test_arbitrary_objects_are_refused_cleanly(data: dict[str, Any]) -> None:
    with contextlib.suppress(ValidationError):
        MatchRequest.model_validate(data)
