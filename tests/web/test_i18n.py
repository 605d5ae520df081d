"""Every UI string exists in English and French; the language is chosen as documented."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from starlette.requests import Request

from raredx.case import Sex
from raredx.genome.model import Reason
from raredx.rank.result import MatchKind
from raredx.store import models as m
from raredx.treat.model import EvidenceLevel, Status
from raredx.web import routes
from raredx.web.i18n import (
    LANG_COOKIE,
    MESSAGES,
    Translator,
    format_number,
    format_percent,
    negotiate,
)

WEB = resources.files("raredx.web")

# Keys built in templates as t('prefix.' ~ value): every value they can take.
DYNAMIC: dict[str, list[str]] = {
    "role.": ["clinician", "geneticist", "admin"],
    "sex.": [s.value for s in Sex],
    "status.": list(m.CASE_STATUSES),
    "cases.tab.": list(routes._TABS),
    "prov.": list(m.PROVENANCES),
    "labs.sex.": ["unknown", "F", "M"],
    "kind.": [k.value for k in MatchKind],
    "level.": [level.value for level in EvidenceLevel],
    "tstatus.": [s.value for s in Status],
    "reason.": [r.value for r in Reason],
}


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for item in (WEB / "templates").iterdir():
        source = item.read_text(encoding="utf-8")
        keys.update(k for k in re.findall(r"\bt\('([a-z_.]+)'", source) if not k.endswith("."))
        for prefix in re.findall(r"\bt\('([a-z_.]+\.)' ~", source):
            assert prefix in DYNAMIC, f"{item.name}: unknown dynamic key prefix {prefix}"
            keys.update(prefix + value for value in DYNAMIC[prefix])
    for module in ("routes.py", "report.py"):
        source = (WEB / module).read_text(encoding="utf-8")
        keys.update(re.findall(r'\bt\("([a-z_.]+)"', source))
        keys.update(re.findall(r'"(explain\.[a-z_]+)"', source))
    keys.update(routes._DONE_MESSAGES.values())
    return keys


def test_every_key_used_exists_in_both_languages() -> None:
    used = _used_keys()
    assert len(used) > 150
    missing = sorted(k for k in used if k not in MESSAGES)
    assert not missing
    for key in used:
        english, french = MESSAGES[key]
        assert english.strip() and french.strip(), key


def test_no_unused_messages() -> None:
    unused = sorted(set(MESSAGES) - _used_keys())
    assert not unused


def test_placeholders_match_between_languages() -> None:
    for key, (english, french) in MESSAGES.items():
        assert set(re.findall(r"\{(\w+)\}", english)) == set(re.findall(r"\{(\w+)\}", french)), key


def test_the_notice_is_worded_as_agreed() -> None:
    assert Translator("en")("notice") == (
        "raredx supports, and never replaces, the clinician's judgement"
    )
    assert Translator("fr")("notice") == (
        "raredx aide, et ne remplace jamais, le jugement du clinicien"
    )
    assert Translator("fr")("cases.imported", n=3) == "3 dossier(s) importé(s)."


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "en"),
        ({"Accept-Language": "fr-FR,fr;q=0.9,en-US;q=0.8"}, "fr"),
        ({"Accept-Language": "de-DE,de;q=0.9,fr;q=0.5,en;q=0.4"}, "fr"),
        ({"Accept-Language": "en-GB,fr;q=0.9"}, "en"),
        ({"Accept-Language": "fr;q=0.2,en;q=0.8"}, "en"),
        ({"Accept-Language": "fr;q=0"}, "en"),
        ({"Accept-Language": "fr;q=abc"}, "en"),
        ({"Accept-Language": "fr", "Cookie": f"{LANG_COOKIE}=en"}, "en"),
        ({"Accept-Language": "en", "Cookie": f"{LANG_COOKIE}=fr"}, "fr"),
        ({"Accept-Language": "fr", "Cookie": f"{LANG_COOKIE}=xx"}, "fr"),
    ],
)
def test_language_negotiation(headers: dict[str, str], expected: str) -> None:
    assert negotiate(_request(headers)) == expected


def test_number_formats() -> None:
    assert format_percent(0.4963, 1, "en") == "49.6%"
    assert format_percent(0.4963, 1, "fr") == "49,6\u202f%"
    assert format_number(1.25, 1, "fr", sign=True) == "+1,2"
    assert format_number(-0.31, 2, "en", sign=True) == "-0.31"
