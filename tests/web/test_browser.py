"""The web UI in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against a real server (uvicorn on a free loopback port). Screenshots go to
tests/web/artifacts/.

A clinician logs in, creates a case, enters the ALPS example's findings through the HPO
autocomplete (English, French, by id, with the keyboard, observed and excluded), runs the
diagnosis, reads the results (autoimmune lymphoproliferative syndrome near the top, the
explanation matrix), switches to French and downloads the PDF report. A geneticist uploads a
VCF with the progress bar and gets the variant table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ARTIFACTS, PASSWORD, LiveServer, has_route

CHROMIUM = Path("/usr/bin/chromium")
ALPS_VCF = Path(__file__).resolve().parents[1] / "store" / "data" / "alps-fas.vcf"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="browser tests need Debian's chromium at /usr/bin/chromium"
)

# (what is typed, the term to pick, excluded?, pick with the keyboard?)
FINDINGS = [
    ("lymphadenopa", "HP:0002716", False, False),
    ("splenomeg", "HP:0001744", False, True),
    ("hépatomégal", "HP:0002240", False, False),  # French, in the English UI
    ("autoimmune hemolytic", "HP:0001890", False, False),
    ("thrombocytopenia", "HP:0001873", False, False),
    ("HP:0002851", "HP:0002851", False, False),  # by id
    ("increased circulating igg", "HP:0003237", False, False),
    ("recurrent bacterial infec", "HP:0002718", True, False),
    ("failure to thri", "HP:0001508", True, False),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1360, "height": 900}, locale="en-GB", accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    page.set_default_timeout(20_000)
    yield page
    context.close()
    # No script error and no CSP violation on any page.
    assert not [e for e in errors if "404" not in e], errors


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, server: LiveServer, user: str) -> None:
    page.goto(f"{server.url}/cases")
    assert "/login?next=/cases" in page.url
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{server.url}/cases")


def create_case(page: Any, pseudonym: str) -> str:
    page.fill("#pseudonym", pseudonym)
    page.select_option("#sex", "MALE")
    page.fill("#age", "4y")
    page.click("#new-case-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/[^/?]+\?done=created$"))
    url: str = page.url.split("?", 1)[0]
    return url


def enter_term(page: Any, typed: str, term: str, excluded: bool, keyboard: bool) -> None:
    page.check("#state-excluded" if excluded else "#state-observed")
    box = page.locator("#term-input")
    box.fill("")
    box.press_sequentially(typed, delay=20)
    option = page.locator(f'#term-options li[role="option"][data-term="{term}"]')
    option.wait_for()
    if keyboard:
        index = int(option.get_attribute("id").rsplit("-", 1)[1])
        for _ in range(index):
            box.press("ArrowDown")
        with page.expect_navigation():
            box.press("Enter")
    else:
        with page.expect_navigation():
            option.click()
    where = "#excluded-terms" if excluded else "#observed-terms"
    page.locator(f'{where} li[data-term="{term}"]').wait_for()


def test_clinician_enters_findings_diagnoses_and_reads_the_report(
    live_server: LiveServer, page: Any
) -> None:
    log_in(page, live_server, "alice")
    assert "raredx supports, and never replaces, the clinician's judgement" in page.inner_text(
        "#notice"
    )
    assert "alice" in page.inner_text("#who") and "RDB" in page.inner_text("#who")
    shot(page, "01-cases")
    url = create_case(page, "P-BROWSER-1")
    for typed, term, excluded, keyboard in FINDINGS:
        enter_term(page, typed, term, excluded, keyboard)
    assert page.locator("#observed-terms li").count() == 7
    assert page.locator("#excluded-terms li").count() == 2
    shot(page, "02-case")

    # The autocomplete lists French labels in the French UI, and nothing unknown.
    page.click("#lang-fr")
    page.wait_for_url(url)
    page.locator("#term-input").press_sequentially("thrombopé", delay=20)
    option = page.locator('#term-options li[data-term="HP:0001873"]')
    option.wait_for()
    assert "Thrombopénie" in option.inner_text()
    shot(page, "03-autocomplete-fr")
    page.click("#lang-en")
    page.wait_for_url(url)

    page.click("#run-diagnosis")
    page.wait_for_url(f"{url}/results")
    names = page.locator("#diseases tbody .disease-name").all_inner_texts()
    assert any("Autoimmune lymphoproliferative syndrome" in n for n in names[:3]), names[:5]
    bar = page.locator("#diseases tbody tr").first.locator(".fill")
    assert bar.bounding_box()["width"] > 0  # the posterior bar is drawn from a CSS class
    assert page.locator("#matrix tbody tr.observed").count() == 7
    assert page.locator("#matrix tbody tr.excluded").count() == 2
    assert "hpo-2025-01-16" in page.inner_text("#kb-version")
    assert page.locator("#next-findings tbody tr").count() > 0
    shot(page, "04-results")

    page.click("#lang-fr")
    page.wait_for_url(f"{url}/results")
    assert "raredx aide, et ne remplace jamais, le jugement du clinicien" in page.inner_text(
        "#notice"
    )
    assert "Splénomégalie" in page.inner_text("#matrix")
    shot(page, "05-results-fr")

    page.click("#report-html")
    page.wait_for_url(f"{url}/report.html")
    assert "P-BROWSER-1" in page.inner_text("#report-patient")
    assert "alice" in page.inner_text("#report-user")
    shot(page, "06-report-fr")
    with page.expect_download() as info:
        page.click("#report-pdf-download")
    download = info.value
    target = ARTIFACTS / "report-fr.pdf"
    download.save_as(str(target))
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000


def test_the_note_chips_in_the_browser(live_server: LiveServer, page: Any) -> None:
    log_in(page, live_server, "alice")
    create_case(page, "P-BROWSER-NOTE")
    page.fill("#note", "Splénomégalie et thrombopénie. Pas d'hépatomégalie. Sa mère a un PTI.")
    page.click("#note-submit")
    page.locator("#proposed li.chip").first.wait_for()
    assert page.locator("#proposed li.chip").count() == 3
    assert page.locator("#observed-terms").count() == 0  # nothing counts before review
    shot(page, "07-note-chips")
    chip = page.locator('#proposed li.chip[data-term="HP:0001744"]')
    with page.expect_navigation():
        chip.locator('button[data-action="accept"]').click()
    page.locator('#observed-terms li[data-term="HP:0001744"]').wait_for()
    chip = page.locator('#proposed li.chip[data-term="HP:0001873"]')
    with page.expect_navigation():
        chip.locator('button[data-action="reject"]').click()
    assert page.locator('#proposed li.chip[data-term="HP:0001873"]').count() == 0
    assert page.locator('#observed-terms li[data-term="HP:0001873"]').count() == 0


def test_geneticist_uploads_a_vcf_with_progress(live_server: LiveServer, page: Any) -> None:
    if not has_route(live_server.app, "upload_vcf", case_id="x"):
        pytest.skip("the REST API (PUT /api/v1/cases/{id}/vcf) is not installed")
    log_in(page, live_server, "gina")
    url = create_case(page, "P-BROWSER-VCF")
    for typed, term, excluded, keyboard in FINDINGS[:5]:
        enter_term(page, typed, term, excluded, keyboard)
    page.set_input_files("#vcf-file", str(ALPS_VCF))
    page.click("#vcf-upload")
    page.wait_for_url(f"{url}/results", timeout=120_000)
    assert page.locator("#variant-table tbody tr").count() > 0
    fas = page.locator("#variant-table tbody tr", has_text="10-90771767-C-T")
    assert "kept" in fas.inner_text()
    assert page.locator("#genes tbody tr").first.get_attribute("data-gene") == "FAS"
    shot(page, "08-results-vcf")
    before = page.inner_text("#provenance")
    page.goto(url)
    assert page.locator("#vcf-table tbody tr").count() == 1
    assert page.locator("#use-vcf").is_checked()
    # Run again with the VCF: the page asks the REST API for a background job and waits.
    with page.expect_response(lambda r: r.url.endswith("/analyses") and r.status == 202):
        page.click("#run-diagnosis")
    page.wait_for_url(f"{url}/results", timeout=120_000)
    assert page.inner_text("#provenance") != before  # a new analysis
    assert page.locator("#variant-table tbody tr").count() > 0
