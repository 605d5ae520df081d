"""The web pages on the real app over a real SQLite store (FastAPI TestClient)."""

from __future__ import annotations

import json
import re
import zlib
from html import unescape

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from raredx.api.deps import Services
from raredx.store import models as m
from tests.web.conftest import (
    ALPS,
    LABS,
    NOTE_FR,
    PASSWORD,
    Session,
    add_term,
    browser_client,
    csrf_of,
    has_route,
    login,
    new_case,
)

ALPS_VCF = ALPS.parents[1] / "tests" / "store" / "data" / "alps-fas.vcf"
ALPS_TERMS = ("HP:0002716", "HP:0001744", "HP:0001890", "HP:0001873", "HP:0002851")
NOTICE_EN = "raredx supports, and never replaces, the clinician's judgement"
NOTICE_FR = "raredx aide, et ne remplace jamais, le jugement du clinicien"


def text_of(html: str) -> str:
    """The page's visible text, tags removed, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def alps_case(session: Session, pseudonym: str) -> str:
    url = new_case(session, pseudonym)
    add_term(session, url, "; ".join(ALPS_TERMS))
    add_term(session, url, "HP:0002718", excluded=True)
    return url


def diagnose(session: Session, url: str) -> None:
    reply = session.client.post(
        f"{url}/diagnose", data={"csrf_token": session.csrf}, follow_redirects=False
    )
    assert reply.status_code == 303, text_of(reply.text)
    assert reply.headers["location"] == f"{url}/results"


def audit(svc: Services, user: str, action: str, entity: str) -> list[str]:
    """Entity ids of `user`'s audit entries of this kind, oldest first."""
    with svc.store.transaction() as s:
        rows = s.execute(
            select(m.AuditEntry.entity_id)
            .join(m.User, m.AuditEntry.user_id == m.User.id)
            .where(
                m.User.name == user, m.AuditEntry.action == action, m.AuditEntry.entity == entity
            )
            .order_by(m.AuditEntry.id)
        )
        return [str(r[0]) for r in rows]


def pdf_strings(data: bytes) -> list[str]:
    """Document strings of a PDF (title, author, outline entries), from its raw and
    Flate-compressed objects."""
    blobs = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            blobs.append(zlib.decompress(stream))
        except zlib.error:
            continue
    out = []
    for blob in blobs:
        for literal in re.findall(
            rb"/(?:Title|Author|Subject)\s*(\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f]*>)", blob
        ):
            if literal.startswith(b"<"):
                raw = bytes.fromhex(literal[1:-1].decode())
                out.append(
                    raw[2:].decode("utf-16-be") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1")
                )
            else:
                out.append(re.sub(rb"\\(.)", rb"\1", literal[1:-1]).decode("latin-1"))
    return out


# ------------------------------------------------------------------------------ login, layout
def test_pages_need_a_login_and_come_back_after_it(web_app: FastAPI) -> None:
    client = browser_client(web_app)
    reply = client.get("/cases?tab=solved", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=/cases%3Ftab%3Dsolved"
    page = client.get(reply.headers["location"])
    assert page.status_code == 200
    assert 'name="next" value="/cases?tab=solved"' in page.text
    done = client.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "next": "/cases?tab=solved",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/cases?tab=solved"
    assert client.get("/cases?tab=solved").status_code == 200


def test_a_failed_login_shows_the_form_again_with_the_error(web_app: FastAPI) -> None:
    client = browser_client(web_app)
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={
            "username": "alice",
            "password": "not the password",
            "csrf_token": csrf_of(page.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert reply.status_code == 401
    assert reply.headers["content-type"].startswith("text/html")
    assert "Wrong user name or password." in reply.text
    assert 'value="alice"' in reply.text  # the name is kept, the password is not
    assert "not the password" not in reply.text
    assert 'name="next" value="/"' in reply.text  # an outside target is dropped
    # In French when the browser prefers French.
    french = client.post(
        "/login",
        data={"username": "nobody", "password": "x", "csrf_token": csrf_of(reply.text)},
        headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
    )
    assert "Nom d'utilisateur ou mot de passe incorrect." in text_of(french.text)


def test_the_login_form_needs_its_csrf_token(web_app: FastAPI) -> None:
    client = browser_client(web_app)
    client.get("/login")
    reply = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert reply.status_code == 403
    assert "expired" in reply.text
    assert client.get("/cases", follow_redirects=False).status_code == 303  # not logged in


def test_every_page_shows_user_centre_language_switch_and_notice(alice: Session) -> None:
    url = alps_case(alice, "P-LAYOUT")
    diagnose(alice, url)
    for path in ("/cases", url, f"{url}/results", f"{url}/report.html"):
        page = alice.client.get(path)
        assert page.status_code == 200, path
        text = text_of(page.text)
        assert NOTICE_EN in text, path
        assert "alice" in text and "RDB" in text, path
        assert 'href="/lang/fr?next=' in page.text and 'href="/lang/en?next=' in page.text
        assert page.headers["cache-control"] == "no-store"


def test_the_language_switch_sets_a_cookie_and_translates(alice: Session) -> None:
    url = alps_case(alice, "P-LANG")
    reply = alice.client.get(f"/lang/fr?next={url.replace('/', '%2F')}", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == url
    assert "raredx_lang=fr" in reply.headers["set-cookie"]
    page = text_of(alice.client.get(url).text)
    assert NOTICE_FR in page
    assert "Splénomégalie" in page  # HPO labels in French where the KB has them
    assert "Ajouter un terme HPO" in page
    alice.client.get("/lang/en?next=/cases")
    assert NOTICE_EN in text_of(alice.client.get(url).text)
    assert alice.client.get("/lang/de", follow_redirects=False).status_code == 404
    outside = alice.client.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert outside.headers["location"] == "/"


def test_pages_carry_the_csp_and_no_inline_script_or_style(alice: Session) -> None:
    url = alps_case(alice, "P-CSP")
    diagnose(alice, url)
    for path in ("/login", "/cases", url, f"{url}/results", f"{url}/report.html"):
        page = alice.client.get(path)
        assert "script-src 'self'" in page.headers["content-security-policy"]
        html = page.text
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, path
        assert " style=" not in html and "<style" not in html, path
        assert re.search(r"\son[a-z]+=", html) is None, path  # no inline event handlers
        forms = re.findall(r"<form\b[^>]*>(.*?)</form>", html, flags=re.S)
        for form in forms:
            opening = html[html.index(form) - 300 : html.index(form)]
            if 'method="post"' in opening.rsplit("<form", 1)[-1]:
                assert 'name="csrf_token"' in form, path


def test_static_files_are_served_from_the_package(web_app: FastAPI) -> None:
    client = browser_client(web_app)
    css = client.get("/static/raredx.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".w100 { width: 100%; }" in css.text
    js = client.get("/static/raredx.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "/api/v1/hpo/search" not in js.text  # URLs come from the page's data attributes
    assert client.get("/static/../routes.py").status_code == 404


# ---------------------------------------------------------------------------------- case list
def test_case_list_by_status_and_new_case(alice: Session, svc: Services) -> None:
    url = new_case(alice, "P-LIST", sex="FEMALE", age="18m")
    page = alice.client.get(f"{url}?done=created")
    assert "Case created." in page.text
    text = text_of(page.text)
    assert "P-LIST" in text and "female" in text and "18 mo" in text
    case_id = url.rsplit("/", 1)[1]
    listed = text_of(alice.client.get("/cases?tab=unsolved").text)
    assert case_id in listed and "P-LIST" in listed and "not analysed" in listed
    assert case_id not in text_of(alice.client.get("/cases?tab=solved").text)
    svc.store.record_decision(
        case_id, "diagnosis_confirmed", {"disease_id": "OMIM:601859"}, user="alice"
    )
    assert case_id in text_of(alice.client.get("/cases?tab=solved").text)
    assert case_id not in text_of(alice.client.get("/cases?tab=unsolved").text)
    assert "solved" in text_of(alice.client.get(url).text)


def test_new_case_form_refuses_names_and_bad_ages(alice: Session) -> None:
    for pseudonym, age in (("Jean Dupont", "4y"), ("", "4y"), ("P-OK", "four")):
        reply = alice.client.post(
            "/cases",
            data={"pseudonym": pseudonym, "sex": "MALE", "age": age, "csrf_token": alice.csrf},
        )
        assert reply.status_code == 400
        assert "The case was not created" in reply.text


def test_forms_need_the_csrf_token(alice: Session) -> None:
    reply = alice.client.post("/cases", data={"pseudonym": "P-CSRF", "sex": "MALE"})
    assert reply.status_code == 403
    forged = alice.client.post(
        "/cases", data={"pseudonym": "P-CSRF", "sex": "MALE", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert "P-CSRF" not in alice.client.get("/cases?tab=all").text


def test_phenopacket_import(alice: Session) -> None:
    data = ALPS.read_bytes()
    reply = alice.client.post(
        "/cases/import",
        data={"csrf_token": alice.csrf},
        files={"file": ("alps.json", data, "application/json")},
        follow_redirects=False,
    )
    assert reply.status_code == 303, text_of(reply.text)
    assert reply.headers["location"] == "/cases/raredx-demo-alps-fas-001?done=imported&n=1"
    page = text_of(alice.client.get("/cases/raredx-demo-alps-fas-001").text)
    assert "DEMO-ALPS-001" in page and "Lymphadenopathy" in page
    # Again: the id exists; the message names the uploaded file, not a temporary path.
    again = alice.client.post(
        "/cases/import",
        data={"csrf_token": alice.csrf},
        files={"file": ("alps.json", data, "application/json")},
    )
    assert again.status_code == 400
    assert "already in the store" in again.text and "alps.json" in again.text
    assert "/tmp" not in again.text and "raredx-import-" not in again.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.json", b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
        ("x.json", b"hello, world", "not JSON"),
        ("x.exe", b"{}", "Unexpected file type"),
        ("x.json", b"   ", "empty"),
        (
            "x.json",
            b'{"id": "bad", "phenotypicFeatures": [{"type": {"id": "x"}}]}',
            "not a valid Phenopacket",
        ),
        ("x.json", b'{"a": "' + b"x" * (9 << 20) + b'"}', "too large"),
    ],
)
def test_phenopacket_import_checks_the_upload(
    alice: Session, name: str, content: bytes, message: str
) -> None:
    reply = alice.client.post(
        "/cases/import",
        data={"csrf_token": alice.csrf},
        files={"file": (name, content, "application/octet-stream")},
    )
    assert reply.status_code == 400
    assert message in reply.text


# ---------------------------------------------------------------------------------- phenotype
def test_typed_terms_in_english_french_and_ids(alice: Session) -> None:
    url = new_case(alice, "P-TERMS")
    add_term(alice, url, "splénomégalie")
    add_term(alice, url, "Autoimmune hemolytic anemia; HP:0001873")
    add_term(alice, url, "hépatomégalie", excluded=True)
    reply = alice.client.post(
        f"{url}/terms",
        data={"term": "ignored text", "term_id": "HP:0002716", "csrf_token": alice.csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    page = alice.client.get(url).text
    observed = re.search(r'id="observed-terms">(.*?)</ul>', page, re.S)
    excluded = re.search(r'id="excluded-terms">(.*?)</ul>', page, re.S)
    assert observed and excluded
    for term in ("HP:0001744", "HP:0001890", "HP:0001873", "HP:0002716"):
        assert f'data-term="{term}"' in observed.group(1)
    assert "Hepatomegaly" in excluded.group(1)
    bad = alice.client.post(f"{url}/terms", data={"term": "xyzzy plugh", "csrf_token": alice.csrf})
    assert bad.status_code == 400
    assert "The term was not added" in bad.text


def test_note_terms_are_proposed_and_count_only_once_accepted(alice: Session) -> None:
    url = new_case(alice, "P-NOTE")
    add_term(alice, url, "HP:0001890")
    note = "Splénomégalie et thrombopénie. Pas d'hépatomégalie. Sa mère a un PTI."
    reply = alice.client.post(
        f"{url}/note",
        data={"text": note, "language": "fr", "csrf_token": alice.csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    page = alice.client.get(reply.headers["location"]).text
    proposed = re.search(r'<ul class="chips" id="proposed">(.*?)</ul>', page, re.S)
    assert proposed
    chips = dict(re.findall(r'data-term="(HP:\d{7})" data-obs="(\d+)"', proposed.group(1)))
    assert set(chips) == {"HP:0001744", "HP:0001873", "HP:0002240"}  # the mother's ITP: no
    assert "Splénomégalie" in proposed.group(1)  # the note's words, as evidence
    # Proposed terms do not count: the diagnosis sees the typed term only.
    diagnose(alice, url)
    results = text_of(alice.client.get(f"{url}/results").text)
    assert "1 observed, 0 excluded" in results
    # Accept one, accept the negated one (as excluded), reject the third.
    for term, action in (
        ("HP:0001744", "accept"),
        ("HP:0002240", "accept"),
        ("HP:0001873", "reject"),
    ):
        done = alice.client.post(
            f"{url}/observations/{chips[term]}/review",
            data={"action": action, "csrf_token": alice.csrf},
            follow_redirects=False,
        )
        assert done.status_code == 303
    page = alice.client.get(url).text
    observed = re.search(r'id="observed-terms">(.*?)</ul>', page, re.S)
    excluded = re.search(r'id="excluded-terms">(.*?)</ul>', page, re.S)
    assert observed and excluded
    assert 'data-term="HP:0001744"' in observed.group(1)
    assert 'data-term="HP:0002240"' in excluded.group(1)
    assert "HP:0001873" not in observed.group(1)
    assert 'id="no-proposed"' in page
    diagnose(alice, url)
    assert "2 observed, 1 excluded" in text_of(alice.client.get(f"{url}/results").text)


def test_marking_a_proposal_excluded_and_back(alice: Session) -> None:
    url = new_case(alice, "P-FLIP")
    reply = alice.client.post(
        f"{url}/note",
        data={"text": "Splenomegaly.", "csrf_token": alice.csrf},
        follow_redirects=False,
    )
    page = alice.client.get(reply.headers["location"]).text
    (obs,) = re.findall(r'data-term="HP:0001744" data-obs="(\d+)"', page)
    for action, where in (
        ("accept_excluded", "excluded-terms"),
        ("accept_present", "observed-terms"),
    ):
        alice.client.post(
            f"{url}/observations/{obs}/review", data={"action": action, "csrf_token": alice.csrf}
        )
        found = re.search(rf'id="{where}">(.*?)</ul>', alice.client.get(url).text, re.S)
        assert found and 'data-term="HP:0001744"' in found.group(1)
    bad = alice.client.post(
        f"{url}/observations/{obs}/review", data={"action": "delete", "csrf_token": alice.csrf}
    )
    assert bad.status_code == 400


def test_lab_results_propose_terms_with_their_values(alice: Session) -> None:
    url = new_case(alice, "P-LABS", sex="FEMALE", age="3y")
    reply = alice.client.post(
        f"{url}/labs",
        data={"age": "3y", "sex": "F", "csrf_token": alice.csrf},
        files={"file": ("results.csv", LABS.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert reply.status_code in (200, 303), text_of(reply.text)
    page = alice.client.get(url).text if reply.status_code == 303 else reply.text
    proposed = re.search(r'<ul class="chips" id="proposed">(.*?)</ul>', page, re.S)
    assert proposed, text_of(page)
    assert "labs" in proposed.group(1)
    assert re.search(
        r'class="evidence">[^<]*\b(Hb|Hemoglobin|Haemoglobin|DAT)', proposed.group(1), re.I
    )
    observed = re.search(r'id="observed-terms">(.*?)</ul>', page, re.S)
    assert observed is None  # nothing accepted yet


def test_lab_upload_is_checked(alice: Session) -> None:
    url = new_case(alice, "P-LABS-BAD")
    for name, content, message in (
        ("r.csv", b"\xff\xfe\x00b\x00a\x00d", "not UTF-8 text"),
        ("r.png", b"test,value\nHb,7\n", "Unexpected file type"),
        ("r.csv", b"x" * ((5 << 20) + 1), "too large"),
        ("r.csv", b"nothing useful here\n", "could not be read"),
    ):
        reply = alice.client.post(
            f"{url}/labs",
            data={"csrf_token": alice.csrf},
            files={"file": (name, content, "text/csv")},
        )
        assert reply.status_code == 400, name
        assert message in reply.text, name


def test_french_note_example(alice: Session) -> None:
    url = new_case(alice, "P-NOTE-FR", sex="FEMALE", age="3y")
    reply = alice.client.post(
        f"{url}/note",
        data={"text": NOTE_FR.read_text(encoding="utf-8"), "csrf_token": alice.csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert re.search(r"n=(\d+)", reply.headers["location"])


# ------------------------------------------------------------------------------------ results
def test_results_page_shows_the_ranking_and_its_explanation(alice: Session) -> None:
    url = alps_case(alice, "P-RESULTS")
    diagnose(alice, url)
    page = alice.client.get(f"{url}/results")
    assert page.status_code == 200
    html = page.text
    text = text_of(html)
    table = re.search(r'<table class="data ranked" id="diseases">(.*?)</table>', html, re.S)
    assert table
    names = [unescape(n) for n in re.findall(r'class="disease-name">([^<]+)<', table.group(1))]
    assert any("Autoimmune lymphoproliferative syndrome" in n for n in names[:3])
    assert re.search(r'class="fill w(\d+)"', table.group(1))  # posterior bars
    assert "hpo-2025-01-16" in text and "HPO ontology" in text  # KB version and sources
    # The matrix: one row per finding, a column per top candidate, cells with log10 LR.
    matrix = re.search(r'<table class="data matrix" id="matrix">(.*?)</table>', html, re.S)
    assert matrix
    rows = re.findall(r'<tr class="(observed|excluded)">(.*?)</tr>', matrix.group(1), re.S)
    assert [kind for kind, _ in rows].count("observed") == len(ALPS_TERMS)
    assert [kind for kind, _ in rows].count("excluded") == 1
    for _, row in rows:
        assert len(re.findall(r'<td class="cell', row)) == 5
    assert re.search(
        r'<td class="cell pos3"[^>]*>\s*<span class="num">\+\d\.\d</span> '
        r'<span class="kind">exact</span>',
        matrix.group(1),
    )
    assert "Findings to check next" in text
    assert 'id="next-findings"' in html
    assert "Treatments" in text and "Do not miss" in text
    assert "Similar patients" in text


def test_results_in_french_use_french_labels(alice: Session) -> None:
    url = alps_case(alice, "P-RESULTS-FR")
    diagnose(alice, url)
    page = alice.client.get(f"{url}/results", headers={"Accept-Language": "fr"})
    text = text_of(page.text)
    assert NOTICE_FR in text
    assert "Splénomégalie" in text and "Probabilité a posteriori" in text
    assert re.search(r"\d+,\d\u202f%", page.text)  # decimal comma, thin space before %


def test_treatments_and_similar_patients(alice: Session, svc: Services) -> None:
    first = alps_case(alice, "P-SIM-1")
    second = alps_case(alice, "P-SIM-2")
    # Other tests of this module store ALPS cases too: two findings of their own make these
    # two each other's closest match whatever else the store holds.
    for url in (first, second):
        add_term(alice, url, "HP:0000252; HP:0001250")
    diagnose(alice, first)
    diagnose(alice, second)
    html = alice.client.get(f"{second}/results").text
    similar = re.search(r'id="similar-table">(.*?)</table>', html, re.S)
    assert similar and first.rsplit("/", 1)[1] in similar.group(1)
    treatments = re.search(r'<section id="treatments">(.*?)</section>', html, re.S)
    assert treatments
    assert re.search(
        r'class="level level-(approved|guideline|case_series|prospective_study)"',
        treatments.group(1),
    )
    assert 'class="citation"' in treatments.group(1)


def test_results_before_any_analysis(alice: Session) -> None:
    url = new_case(alice, "P-NONE")
    for path in (f"{url}/results", f"{url}/report.html", f"{url}/report.pdf"):
        page = alice.client.get(path)
        assert page.status_code == 200
        assert "No analysis yet" in page.text


def test_diagnosis_needs_an_observed_finding(alice: Session) -> None:
    url = new_case(alice, "P-EMPTY")
    reply = alice.client.post(f"{url}/diagnose", data={"csrf_token": alice.csrf})
    assert reply.status_code == 400
    assert "empty phenotype" in reply.text


# ------------------------------------------------------------------------------------ reports
def test_html_report_has_every_part_and_is_audited(alice: Session, svc: Services) -> None:
    url = alps_case(alice, "P-REPORT")
    diagnose(alice, url)
    case_id = url.rsplit("/", 1)[1]
    before = len(audit(svc, "alice", "read", "analysis"))
    page = alice.client.get(f"{url}/report.html")
    assert page.status_code == 200
    text = text_of(page.text)
    for part in (
        "P-REPORT",
        "Findings",
        "Splenomegaly",
        "Differential diagnosis",
        "Posterior",
        "Explanation of the top candidates",
        "Treatments",
        "hpo-2025-01-16",
        "HPO ontology",
        "Ranking parameters",
        "Generated by alice",
        NOTICE_EN,
        "Do not miss",
    ):
        assert part in text, part
    assert re.search(r"Analysis #\d+ · \d{4}-\d\d-\d\d \d\d:\d\d", text)
    assert len(audit(svc, "alice", "read", "analysis")) > before
    assert case_id in audit(svc, "alice", "read", "case")


def test_pdf_report(alice: Session, svc: Services) -> None:
    url = alps_case(alice, "P-PDF")
    diagnose(alice, url)
    case_id = url.rsplit("/", 1)[1]
    before = len(audit(svc, "alice", "read", "analysis"))
    reply = alice.client.get(f"{url}/report.pdf")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.headers["content-disposition"] == f'inline; filename="raredx-report-{case_id}.pdf"'
    data = reply.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    strings = pdf_strings(data)
    assert f"raredx diagnostic support report {case_id}" in strings
    assert "alice (RDB)" in strings
    for heading in (
        "Differential diagnosis",
        "Explanation of the top candidates",
        "Treatments",
        "Findings to check next",
        "Do not miss",
    ):
        assert heading in strings, heading
    assert any(s.startswith("#1 ") and "·" in s for s in strings)
    assert len(audit(svc, "alice", "read", "analysis")) > before
    french = alice.client.get(f"{url}/report.pdf?download=1", headers={"Accept-Language": "fr"})
    assert french.headers["content-disposition"].startswith("attachment;")
    assert "Diagnostic différentiel" in pdf_strings(french.content)


# ---------------------------------------------------------------------------------- isolation
def test_another_centre_never_sees_a_case(alice: Session, nora: Session, svc: Services) -> None:
    url = alps_case(alice, "P-SECRET")
    diagnose(alice, url)
    reads_before = audit(svc, "nora", "read", "case")
    for path in (url, f"{url}/results", f"{url}/report.html", f"{url}/report.pdf"):
        reply = nora.client.get(path)
        assert reply.status_code == 404, path
        assert "P-SECRET" not in reply.text and "Case not found" in reply.text
    posts = [
        ("terms", {"term": "HP:0001250"}),
        ("note", {"text": "Seizures."}),
        ("diagnose", {}),
        ("observations/1/review", {"action": "reject"}),
    ]
    for path, data in posts:
        reply = nora.client.post(f"{url}/{path}", data={**data, "csrf_token": nora.csrf})
        assert reply.status_code == 404, path
    labs = nora.client.post(
        f"{url}/labs",
        data={"csrf_token": nora.csrf},
        files={"file": ("r.csv", LABS.read_bytes(), "text/csv")},
    )
    assert labs.status_code == 404
    listed = text_of(nora.client.get("/cases?tab=all").text)
    assert "P-SECRET" not in listed and url.rsplit("/", 1)[1] not in listed
    assert audit(svc, "nora", "read", "case") == reads_before  # nothing of it was read
    # An unknown case looks the same.
    assert nora.client.get("/cases/no-such-case").status_code == 404
    # Alice's own observations cannot be reviewed through another case's URL either.
    other = new_case(nora, "P-NORA")
    obs = svc.store.observations(url.rsplit("/", 1)[1], user="alice")[0].id
    reply = nora.client.post(
        f"{other}/observations/{obs}/review", data={"action": "reject", "csrf_token": nora.csrf}
    )
    assert reply.status_code == 400
    assert (
        svc.store.observations(url.rsplit("/", 1)[1], user="alice")[0].review_status == "accepted"
    )


def test_case_data_is_escaped(alice: Session) -> None:
    packet = json.loads(ALPS.read_text(encoding="utf-8"))
    packet["id"] = "xss-case-1"
    packet["subject"]["id"] = "<script>alert(1)</script>"
    packet["phenotypicFeatures"][0]["type"]["label"] = '<img src=x onerror="alert(2)">'
    reply = alice.client.post(
        "/cases/import",
        data={"csrf_token": alice.csrf},
        files={"file": ("x.json", json.dumps(packet).encode(), "application/json")},
        follow_redirects=False,
    )
    assert reply.status_code == 303, text_of(reply.text)
    note = "<b>Splenomegaly</b> <script>alert(3)</script>"
    alice.client.post("/cases/xss-case-1/note", data={"text": note, "csrf_token": alice.csrf})
    diagnose(alice, "/cases/xss-case-1")
    for path in (
        "/cases?tab=all",
        "/cases/xss-case-1",
        "/cases/xss-case-1/results",
        "/cases/xss-case-1/report.html",
    ):
        html = alice.client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Splen" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def test_templates_never_mark_data_safe() -> None:
    from importlib import resources

    folder = resources.files("raredx.web") / "templates"
    for item in folder.iterdir():
        source = item.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", ""), item.name
        assert "autoescape false" not in source, item.name
        assert "Markup" not in source, item.name


def test_logout_from_the_page(alice: Session) -> None:
    reply = alice.client.post(
        "/auth/logout", data={"csrf_token": alice.csrf}, follow_redirects=False
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/login"
    assert alice.client.get("/cases", follow_redirects=False).status_code == 303


def test_a_user_can_log_in_twice(web_app: FastAPI) -> None:
    client = browser_client(web_app)
    first = login(client, "gina")
    second = login(client, "gina")
    assert first != second  # a new session, a new CSRF token


# ----------------------------------------------------------------------------------------- VCF
def test_vcf_results_list_each_variant_kept_or_set_aside(gina: Session, web_app: FastAPI) -> None:
    if not has_route(web_app, "upload_vcf", case_id="x"):
        pytest.skip("the REST API (PUT /api/v1/cases/{id}/vcf) is not installed")
    url = new_case(gina, "P-VCF")
    add_term(gina, url, "HP:0001166; HP:0001083; HP:0002616; HP:0001519")  # Marfan-like
    case_id = url.rsplit("/", 1)[1]
    page = gina.client.get(url).text
    assert 'id="vcf-form"' in page and f'data-upload-url="/api/v1/cases/{case_id}/vcf"' in page
    upload = gina.client.put(
        f"/api/v1/cases/{case_id}/vcf?filename=alps-fas.vcf",
        content=ALPS_VCF.read_bytes(),
        headers={
            "X-CSRF-Token": gina.csrf,
            "Content-Type": "application/octet-stream",
            "Accept": "application/json",
        },
    )
    assert upload.status_code == 201, upload.text
    page = gina.client.get(url).text
    assert 'id="use-vcf" checked' in page and "alps-fas.vcf" in page
    reply = gina.client.post(
        f"{url}/diagnose", data={"csrf_token": gina.csrf, "use_vcf": "1"}, follow_redirects=False
    )
    assert reply.status_code == 303, text_of(reply.text)
    html = gina.client.get(f"{url}/results").text
    table = re.search(r'id="variant-table">(.*?)</table>', html, re.S)
    assert table, text_of(html)
    rows = {
        m.group(2): text_of(m.group(0))
        for m in re.finditer(
            r'<tr class="(kept|set-aside)">\s*<td>[^<]*</td><td class="mono">([^<]+)</td>.*?</tr>',
            table.group(1),
            re.S,
        )
    }
    assert "kept, in the genotype scored" in rows["10-90771767-C-T"]
    assert re.search(r"set aside ?: consequence \(synonymous_variant", rows["15-48760000-G-A"])
    assert "p.Leu1334=" in rows["15-48760000-G-A"]  # VEP's %3D, decoded
    assert re.search(r"set aside ?: inheritance \(AR: one heterozygous", rows["1-5924512-C-A"])
    assert "log10 LR genotype" in text_of(html)
    # The report lists them too; phenotype only when the box is unticked.
    assert "10-90771767-C-T" in gina.client.get(f"{url}/report.html").text
    gina.client.post(f"{url}/diagnose", data={"csrf_token": gina.csrf})
    assert 'id="variant-table"' not in gina.client.get(f"{url}/results").text


def test_clinicians_do_not_get_the_vcf_uploader(alice: Session) -> None:
    url = new_case(alice, "P-NO-VCF")
    page = alice.client.get(url).text
    assert 'id="vcf-form"' not in page and 'id="vcf-role"' in page


def test_new_results_tab_until_someone_reads_them(alice: Session, svc: Services) -> None:
    url = alps_case(alice, "P-NEW")
    diagnose(alice, url)
    case_id = url.rsplit("/", 1)[1]
    assert case_id not in alice.client.get("/cases?tab=new").text
    svc.store.set_new_results(case_id, True, user="alice")  # as a reanalysis marks it
    listed = alice.client.get("/cases?tab=new").text
    assert case_id in listed and "new results" in text_of(listed)
    assert alice.client.get(f"{url}/results").status_code == 200
    assert case_id not in alice.client.get("/cases?tab=new").text
    assert case_id in alice.client.get("/cases?tab=unsolved").text
