"""The web UI's pages: login, case list, case page, results, reports (HTML and PDF).

Every page but the login form needs a session (`raredx.api.deps.current_user`: the app
redirects a browser without one to ``/login?next=...``) and every form carries the session's
CSRF token. A case is looked up with `Store.case_centre` first, so a case of a centre the user
may not see answers 404 exactly like a case that does not exist; every read and write goes
through the store with ``user=...`` and is audited there.

Terms read from a clinical note or derived from lab results are stored as *proposed*
observations (`Store.add_observations` with provenance note/labs): they are shown as chips to
accept, reject or mark excluded, and count in the diagnosis only once accepted.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from raredx import __version__
from raredx.api import auth
from raredx.api.deps import NotAuthenticated, Services, current_user, services
from raredx.api.security import new_csrf_token, same_token
from raredx.case import Case, Sex, Subject
from raredx.diagnosis import diagnose, parse_age
from raredx.errors import InputError
from raredx.labs import labs_to_hpo, parse_labs
from raredx.observations import lab_observations, note_observations
from raredx.phenotype import MAX_NOTE_CHARS, NoteLang, parse_terms
from raredx.store import AnalysisRecord, NewObservation, ObservationRecord
from raredx.store.accounts import UserRecord
from raredx.store.matching import Match, similar_cases
from raredx.web.i18n import (
    LANG_COOKIE,
    LANGS,
    Lang,
    Translator,
    format_number,
    format_percent,
    negotiate,
)
from raredx.web.report import (
    AnalysisView,
    VariantView,
    analysis_view,
    bar_width,
    localized_label,
    render_pdf,
    variant_rows,
)

__all__ = [
    "MAX_LAB_UPLOAD_BYTES",
    "MAX_NOTE_FORM_CHARS",
    "MAX_PHENOPACKET_UPLOAD_BYTES",
    "MAX_VCF_UPLOAD_BYTES",
    "case_href",
    "router",
    "templates",
]

MAX_PHENOPACKET_UPLOAD_BYTES: Final = 8 << 20
"""Largest phenopacket file the import form takes (a stored case is at most 4 MiB)."""
MAX_LAB_UPLOAD_BYTES: Final = 5 << 20
"""Largest lab file the lab form takes."""
MAX_NOTE_FORM_CHARS: Final = min(200_000, MAX_NOTE_CHARS)
"""Longest clinical note the note form takes."""
MAX_VCF_UPLOAD_BYTES: Final = 4 << 30
"""Largest VCF the page's uploader sends when the REST API does not say (it enforces its own
limit, ``$RAREDX_MAX_UPLOAD_BYTES``)."""
_GENOME_ROLES = ("geneticist", "admin")  # who may upload a VCF (the REST API checks it too)

_PSEUDONYM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HPO_ID = re.compile(r"HP:[0-9]{7}")
_LAB_SUFFIXES = (".csv", ".tsv", ".txt", ".json")
_PHENOPACKET_SUFFIXES = (".json", ".jsonl")
_TABS = ("unsolved", "solved", "new", "all")
_DONE_MESSAGES = {
    "created": "cases.created",
    "imported": "cases.imported",
    "terms": "case.terms_added",
    "note": "note.proposed",
    "labs": "labs.proposed",
    "review": "review.done",
}
_REVIEW_ACTIONS: dict[str, tuple[str, bool | None]] = {
    "accept": ("accepted", None),
    "accept_excluded": ("accepted", True),
    "accept_present": ("accepted", False),
    "reject": ("rejected", None),
}
_NOTE_LANGS: dict[str, NoteLang] = {"en": "en", "fr": "fr"}  # else detected ("auto")
_NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(include_in_schema=False)

templates = Environment(
    loader=PackageLoader("raredx.web", "templates"),
    autoescape=True,  # every template, whatever its name: never |safe on case data
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

SvcDep = Annotated[Services, Depends(services)]
UserDep = Annotated[UserRecord, Depends(current_user)]


# --------------------------------------------------------------------------------- rendering
@dataclass(frozen=True, slots=True)
class _Problem:
    message: str
    problems: tuple[str, ...] = ()


def _problem(exc: InputError, heading: str | None = None) -> _Problem:
    problems = exc.problems[:20]
    if heading is None:
        return _Problem(exc.message, problems)
    return _Problem(heading, (exc.message, *problems) if exc.message else problems)


def case_href(case_id: str) -> str:
    """The URL of a case page."""
    return "/cases/" + quote(case_id, safe="")


def _here(request: Request) -> str:
    """The current page, as a ``next=`` value (one-off messages left out)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("done", "n")]
    query = urlencode(kept)
    target = request.url.path + (f"?{query}" if query else "")
    return quote(auth.safe_next(target), safe="")


def _helpers(lang: Lang) -> dict[str, Any]:
    def pct(value: float | None, digits: int = 1) -> str:
        return "" if value is None else format_percent(float(value), digits, lang)

    def signed(value: float | None, digits: int = 1) -> str:
        if value is None:
            return ""
        if round(float(value), digits) == 0:
            return format_number(0.0, digits, lang)
        return format_number(float(value), digits, lang, sign=True)

    def number(value: float | None, digits: int = 2) -> str:
        return "" if value is None else format_number(float(value), digits, lang)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone()
        return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")

    t = Translator(lang)

    def age(years: float | None) -> str:
        if years is None:
            return t("age.unknown")
        if years >= 2:
            shown = f"{years:.1f}".rstrip("0").rstrip(".")
            return t("age.years", n=shown.replace(".", ",") if lang == "fr" else shown)
        if years >= 1 / 12:
            return t("age.months", n=round(years * 12))
        return t("age.days", n=round(years * 365.25))

    return {
        "t": t,
        "lang": lang,
        "pct": pct,
        "signed": signed,
        "number": number,
        "when": when,
        "age": age,
        "bar": bar_width,
        "case_href": case_href,
        "static_url": lambda name: f"/static/{name}?v={quote(__version__)}",
        "version": __version__,
    }


def _render(
    request: Request,
    name: str,
    *,
    user: UserRecord | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = negotiate(request)
    svc: Services = request.app.state.services
    values: dict[str, Any] = {
        **_helpers(lang),
        "user": user,
        "csrf": request.session.get("csrf", "") if "session" in request.scope else "",
        "here": _here(request),
        "kb_version": svc.kb.version,
        "messages": [],
        "errors": [],
    }
    values.update(context)
    html = templates.get_template(name).render(values)
    return HTMLResponse(html, status_code=status_code, headers=_NO_STORE)


def _not_found(request: Request, user: UserRecord) -> HTMLResponse:
    t = Translator(negotiate(request))
    return _render(
        request,
        "error.html",
        user=user,
        status_code=404,
        heading=t("case.not_found"),
        detail=t("case.not_found_detail"),
        back_url="/cases",
        back_label=t("case.back"),
    )


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _visible(svc: Services, user: UserRecord, case_id: str) -> bool:
    """True when the case exists in a centre the user may see (nothing is audited else)."""
    try:
        svc.store.case_centre(case_id, user=user.name)
    except InputError:
        return False
    return True


def _done_messages(t: Translator, done: str | None, n: int | None) -> list[str]:
    key = _DONE_MESSAGES.get(done or "")
    if key is None:
        return []
    return [t(key, n=n if n is not None else 0)]


# ------------------------------------------------------------------------------ login, lang
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    """The login form (its CSRF token lives in the pre-login session)."""
    if not request.session.get("csrf"):
        request.session["csrf"] = new_csrf_token()
    return _render(
        request,
        "login.html",
        user=None,
        next_path=auth.safe_next(next),
        username="",
        login_error=None,
    )


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    svc: SvcDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_path: Annotated[str | None, Form(alias="next")] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Log in with the same code as ``POST /auth/login``; a failure shows the form again."""
    t = Translator(negotiate(request))
    target = auth.safe_next(next_path)
    name = username.strip()[:128]

    def again(message: str, status_code: int) -> HTMLResponse:
        if not request.session.get("csrf"):
            request.session["csrf"] = new_csrf_token()
        return _render(
            request,
            "login.html",
            user=None,
            status_code=status_code,
            next_path=target,
            username=name,
            login_error=message,
        )

    if not same_token(request.session.get("csrf"), csrf_token):
        return again(t("login.expired"), 403)
    try:
        return await auth.login(request, svc, name, password[:1025], target)
    except NotAuthenticated as exc:
        locked = "too many" in str(exc)
        return again(t("login.locked") if locked else t("login.failed"), 401)


@router.get("/lang/{code}")
def set_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember the UI language in a cookie and go back to `next`."""
    if code not in LANGS:
        return Response(status_code=404)
    response = _redirect(auth.safe_next(next))
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/")
def home(user: UserDep) -> RedirectResponse:
    return _redirect("/cases")


# --------------------------------------------------------------------------------- case list
@dataclass(frozen=True, slots=True)
class _CaseRow:
    id: str
    url: str
    patient: str
    sex: str
    age_years: float | None
    observed: int
    excluded: int
    status: str
    analysed: datetime | None
    top_name: str
    top_posterior: float | None
    new_results: bool


def _top(latest: AnalysisRecord | None) -> tuple[str, float | None]:
    if latest is None:
        return "", None
    diseases = latest.results.get("diseases")
    if not isinstance(diseases, list) or not diseases or not isinstance(diseases[0], Mapping):
        return "", None
    best = diseases[0]
    posterior = best.get("posterior")
    return str(best.get("name", "")), float(posterior) if isinstance(
        posterior, int | float
    ) else None


def _case_rows(svc: Services, user: UserRecord) -> list[_CaseRow]:
    rows = []
    stored = svc.store.cases_with_latest_analysis(user=user.name)
    marked = {c.id for c in stored if c.new_results}
    for item in stored:
        name, posterior = _top(item.latest)
        features = item.case.features
        rows.append(
            _CaseRow(
                id=item.id,
                url=case_href(item.id),
                patient=item.patient,
                sex=item.case.subject.sex.value,
                age_years=item.case.subject.age_years,
                observed=sum(not f.excluded for f in features),
                excluded=sum(f.excluded for f in features),
                status=item.status,
                analysed=item.latest.created if item.latest else None,
                top_name=name,
                top_posterior=posterior,
                new_results=item.id in marked,
            )
        )
    return rows


def _in_tab(row: _CaseRow, tab: str) -> bool:
    if tab == "new":
        return row.new_results
    return tab == "all" or row.status == tab


def _cases_page(
    request: Request,
    svc: Services,
    user: UserRecord,
    tab: str,
    *,
    messages: Iterable[str] = (),
    errors: Iterable[_Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    tab = tab if tab in _TABS else "unsolved"
    rows = _case_rows(svc, user)
    counts = {key: sum(_in_tab(r, key) for r in rows) for key in _TABS}
    newest_first = sorted(
        (r for r in rows if _in_tab(r, tab)),
        key=lambda r: r.analysed or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    return _render(
        request,
        "cases.html",
        user=user,
        status_code=status_code,
        tab=tab,
        tabs=_TABS,
        counts=counts,
        rows=newest_first,
        messages=list(messages),
        errors=list(errors),
        max_phenopacket_bytes=MAX_PHENOPACKET_UPLOAD_BYTES,
    )


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    tab: str = "unsolved",
    done: str | None = None,
    n: int | None = None,
) -> HTMLResponse:
    """The centre's cases by status, a new-case form and the phenopacket import."""
    t = Translator(negotiate(request))
    return _cases_page(request, svc, user, tab, messages=_done_messages(t, done, n))


def _new_case_id(centre: str) -> str:
    return f"{centre}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


@router.post("/cases", response_class=HTMLResponse)
def create_case(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    pseudonym: Annotated[str, Form()] = "",
    sex: Annotated[str, Form()] = "UNKNOWN_SEX",
    age: Annotated[str, Form()] = "",
) -> Response:
    """Create a case for a pseudonymous patient of the user's centre."""
    t = Translator(negotiate(request))
    problems = []
    pseudonym = pseudonym.strip()
    if not _PSEUDONYM.fullmatch(pseudonym):
        problems.append(t("case.pseudonym_hint"))
    sex_value = Sex(sex) if sex in Sex.__members__ else Sex.UNKNOWN_SEX
    age_years = None
    try:
        age_years = parse_age(age.strip()[:32] or None)
    except InputError as exc:
        problems.extend(exc.problems or (exc.message,))
    if problems:
        error = _Problem(t("cases.create_failed"), tuple(problems))
        return _cases_page(request, svc, user, "unsolved", errors=[error], status_code=400)
    case = Case(
        id=_new_case_id(user.centre),
        subject=Subject(id=pseudonym, sex=sex_value, age_years=age_years),
    )
    try:
        case_id = svc.store.add_case(case, centre=user.centre, user=user.name)
    except InputError as exc:
        error = _problem(exc, t("cases.create_failed"))
        return _cases_page(request, svc, user, "unsolved", errors=[error], status_code=400)
    return _redirect(f"{case_href(case_id)}?done=created")


def _read_upload(file: UploadFile, limit: int, t: Translator) -> bytes:
    """The upload's bytes; InputError when larger than `limit` or empty."""
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InputError(t("upload.too_large"), [f"{limit // (1 << 20)} MiB"])
    if not data.strip():
        raise InputError(t("upload.empty"))
    return data


def _upload_name(file: UploadFile) -> str:
    name = Path(file.filename or "upload").name
    return re.sub(r"[^\w.()+-]+", "_", name)[:128] or "upload"


def _phenopacket_text(data: bytes, t: Translator) -> tuple[str, str]:
    """(text, suffix) of an uploaded phenopacket file: one JSON object, or JSON Lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(t("upload.not_text")) from None
    if "\x00" in text:
        raise InputError(t("upload.not_text"))
    body = text.strip()
    try:
        if isinstance(json.loads(body), dict):
            return body, ".json"
    except ValueError:
        pass
    lines = [line for line in body.splitlines() if line.strip()]
    try:
        if lines and all(isinstance(json.loads(line), dict) for line in lines):
            return body + "\n", ".jsonl"
    except ValueError:
        pass
    raise InputError(t("upload.not_json"))


@router.post("/cases/import", response_class=HTMLResponse)
def import_cases(request: Request, svc: SvcDep, user: UserDep, file: UploadFile) -> Response:
    """Import the cases of an uploaded phenopacket file (all or none) into the user's centre."""
    t = Translator(negotiate(request))
    name = _upload_name(file)
    try:
        if not name.lower().endswith(_PHENOPACKET_SUFFIXES):
            raise InputError(t("upload.bad_name", name=name))
        text, suffix = _phenopacket_text(_read_upload(file, MAX_PHENOPACKET_UPLOAD_BYTES, t), t)
        with tempfile.TemporaryDirectory(prefix="raredx-import-") as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_text(text, encoding="utf-8")
            try:
                ids = svc.store.import_phenopackets([path], centre=user.centre, user=user.name)
            except InputError as exc:
                raise InputError(
                    exc.message.replace(str(path), name),
                    [p.replace(str(path), name) for p in exc.problems],
                ) from None
    except InputError as exc:
        error = _problem(exc, t("cases.import_failed"))
        return _cases_page(request, svc, user, "unsolved", errors=[error], status_code=400)
    if len(ids) == 1:
        return _redirect(f"{case_href(ids[0])}?done=imported&n=1")
    return _redirect(f"/cases?done=imported&n={len(ids)}")


# --------------------------------------------------------------------------------- case page
@dataclass(frozen=True, slots=True)
class _ObsView:
    id: int
    term_id: str
    shown_label: str
    excluded: bool
    provenance: str
    evidence: str | None


@dataclass(frozen=True, slots=True)
class _VcfView:
    name: str
    assembly: str | None
    sample: str | None
    size: int | None
    sha256: str


def _obs_view(obs: ObservationRecord, svc: Services, lang: str) -> _ObsView:
    return _ObsView(
        id=obs.id,
        term_id=obs.term_id,
        shown_label=localized_label(svc.kb, obs.term_id, obs.label, lang),
        excluded=obs.excluded,
        provenance=obs.provenance,
        evidence=obs.evidence,
    )


def _max_vcf_bytes() -> int:
    try:
        from raredx.api.rest.vcf import max_upload_bytes
    except ImportError:  # the REST API is not installed: its own check will answer
        return MAX_VCF_UPLOAD_BYTES
    return max_upload_bytes()


def _case_status(svc: Services, user: UserRecord, case_id: str) -> str:
    decisions = svc.store.decisions(case_id, user=user.name)
    return "solved" if any(d.kind == "diagnosis_confirmed" for d in decisions) else "unsolved"


def _case_page(
    request: Request,
    svc: Services,
    user: UserRecord,
    case_id: str,
    *,
    messages: Iterable[str] = (),
    errors: Iterable[_Problem] = (),
    status_code: int = 200,
    lab_set_aside: Iterable[str] = (),
) -> HTMLResponse:
    lang = negotiate(request)
    store = svc.store
    case = store.get_case(case_id, user=user.name)
    records = store.observations(case_id, user=user.name)
    views = [(o, _obs_view(o, svc, lang)) for o in records]
    active = {o.term_id for o in records if o.review_status != "rejected"}
    vcfs = store.vcfs(case_id, user=user.name)
    analyses = store.analyses(case_id, user=user.name)
    sex = case.subject.sex
    return _render(
        request,
        "case.html",
        user=user,
        status_code=status_code,
        case=case,
        case_url=case_href(case_id),
        case_path=quote(case_id, safe=""),
        status=_case_status(svc, user, case_id),
        latest=analyses[-1] if analyses else None,
        observed=[v for o, v in views if o.review_status == "accepted" and not o.excluded],
        excluded=[v for o, v in views if o.review_status == "accepted" and o.excluded],
        proposed=[v for o, v in views if o.review_status == "proposed"],
        rejected=[v for o, v in views if o.review_status == "rejected" and o.term_id not in active],
        vcfs=[
            _VcfView(
                name=Path(v.path.removeprefix("file://")).name,
                assembly=v.assembly,
                sample=v.sample,
                size=v.size,
                sha256=(v.sha256 or "")[:12],
            )
            for v in vcfs
        ],
        attached_vcf=any(v.attached for v in vcfs),
        age_input=""
        if case.subject.age_years is None
        else f"{case.subject.age_years:.2f}".rstrip("0").rstrip("."),
        sex_input={Sex.FEMALE: "F", Sex.MALE: "M"}.get(sex, ""),
        max_note_chars=MAX_NOTE_FORM_CHARS,
        max_lab_bytes=MAX_LAB_UPLOAD_BYTES,
        max_vcf_bytes=_max_vcf_bytes(),
        can_upload_vcf=user.role in _GENOME_ROLES,
        lab_set_aside=list(lab_set_aside),
        messages=list(messages),
        errors=list(errors),
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    case_id: str,
    done: str | None = None,
    n: int | None = None,
) -> HTMLResponse:
    """One case: its phenotype and review, note and lab input, VCF, and the diagnosis button."""
    if not _visible(svc, user, case_id):
        return _not_found(request, user)
    t = Translator(negotiate(request))
    return _case_page(request, svc, user, case_id, messages=_done_messages(t, done, n))


def _case_form(
    request: Request,
    svc: Services,
    user: UserRecord,
    case_id: str,
    failed: str,
    act: Callable[[], Response],
) -> Response:
    """The answer to a form posted on a case page: 404 for a case the user may not see, else
    what `act` answers; when it raises InputError, the case page again (400) with the error
    under the heading `failed`."""
    if not _visible(svc, user, case_id):
        return _not_found(request, user)
    try:
        return act()
    except InputError as exc:
        error = _problem(exc, failed)
        return _case_page(request, svc, user, case_id, errors=[error], status_code=400)


def _add(
    svc: Services, user: UserRecord, case_id: str, new: list[NewObservation], provenance: str
) -> int:
    """Add `new` to the case's observations; how many distinct ones they are (a term the case
    already has is not added twice)."""
    return len(set(svc.store.add_observations(case_id, new, provenance=provenance, user=user.name)))


@router.post("/cases/{case_id}/terms", response_class=HTMLResponse)
def add_terms(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    case_id: str,
    term: Annotated[str, Form()] = "",
    term_id: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "observed",
) -> Response:
    """Add typed terms (picked in the autocomplete, or ids/names separated by ';')."""
    t = Translator(negotiate(request))
    excluded = state == "excluded"

    def act() -> Response:
        picked = term_id.strip()
        if _HPO_ID.fullmatch(picked) and svc.kb.lookup_term(picked) is not None:
            found = svc.kb.term(picked)
            new = [NewObservation(found.id, excluded=excluded, label=found.label)]
        else:
            parsed = parse_terms(svc.kb, term[:2000])
            new = [NewObservation(x.id, excluded=excluded, label=x.label) for x in parsed.terms]
        n = _add(svc, user, case_id, new, "typed")
        return _redirect(f"{case_href(case_id)}?done=terms&n={n}#add-term")

    return _case_form(request, svc, user, case_id, t("case.terms_failed"), act)


@router.post("/cases/{case_id}/note", response_class=HTMLResponse)
def add_note(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    case_id: str,
    text: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "auto",
) -> Response:
    """Read a clinical note: its present and negated findings become proposed observations."""
    t = Translator(negotiate(request))

    def act() -> Response:
        if len(text) > MAX_NOTE_FORM_CHARS:
            raise InputError(t("upload.too_large"), [f"{MAX_NOTE_FORM_CHARS:,} characters"])
        new = note_observations(svc.kb, text, _NOTE_LANGS.get(language, "auto"))
        if not new:
            return _case_page(request, svc, user, case_id, messages=[t("note.none")])
        n = _add(svc, user, case_id, new, "note")
        return _redirect(f"{case_href(case_id)}?done=note&n={n}#review")

    return _case_form(request, svc, user, case_id, t("note.failed"), act)


def _lab_observations(
    svc: Services, text: str, source: str, age: str, sex: str
) -> tuple[list[NewObservation], list[str]]:
    """The observations lab results propose, and the results that gave no term."""
    years = parse_age(age.strip()[:32] or None)
    phenotype = labs_to_hpo(parse_labs(text, source=source), svc.kb, years, sex or None)
    aside = [f"{s.where} {s.test} {s.value}: {s.reason}" for s in phenotype.set_aside]
    return lab_observations(phenotype), aside


@router.post("/cases/{case_id}/labs", response_class=HTMLResponse)
def add_labs(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    case_id: str,
    file: UploadFile,
    age: Annotated[str, Form()] = "",
    sex: Annotated[str, Form()] = "",
) -> Response:
    """Derive terms from uploaded lab results: proposed observations, with the values."""
    t = Translator(negotiate(request))

    def act() -> Response:
        name = _upload_name(file)
        if not name.lower().endswith(_LAB_SUFFIXES):
            raise InputError(t("upload.bad_name", name=name))
        data = _read_upload(file, MAX_LAB_UPLOAD_BYTES, t)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(t("upload.not_text")) from None
        new, aside = _lab_observations(svc, text, name, age, sex if sex in ("F", "M") else "")
        if not new:
            return _case_page(
                request, svc, user, case_id, messages=[t("labs.none")], lab_set_aside=aside
            )
        n = _add(svc, user, case_id, new, "labs")
        if aside:
            message = t("labs.proposed", n=n)
            return _case_page(request, svc, user, case_id, messages=[message], lab_set_aside=aside)
        return _redirect(f"{case_href(case_id)}?done=labs&n={n}#review")

    return _case_form(request, svc, user, case_id, t("labs.failed"), act)


@router.post("/cases/{case_id}/observations/{observation_id}/review", response_class=HTMLResponse)
def review(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    case_id: str,
    observation_id: int,
    action: Annotated[str, Form()] = "",
) -> Response:
    """Accept (as recorded, as excluded or as present) or reject one observation."""
    t = Translator(negotiate(request))

    def act() -> Response:
        if action not in _REVIEW_ACTIONS:
            raise InputError(t("review.failed"), [repr(action[:40])])
        status, excluded = _REVIEW_ACTIONS[action]
        svc.store.review_observation(
            observation_id, status=status, excluded=excluded, user=user.name, case_id=case_id
        )
        return _redirect(f"{case_href(case_id)}?done=review#phenotype")

    return _case_form(request, svc, user, case_id, t("review.failed"), act)


@router.post("/cases/{case_id}/diagnose", response_class=HTMLResponse)
def run_diagnosis(
    request: Request,
    svc: SvcDep,
    user: UserDep,
    case_id: str,
    use_vcf: Annotated[str, Form()] = "",
) -> Response:
    """Rank the case's accepted phenotype (with its attached VCF when asked) and record it."""
    t = Translator(negotiate(request))

    def act() -> Response:
        store = svc.store
        case = store.get_case(case_id, user=user.name)
        genome = store.genome_evidence(case_id, svc.kb, user=user.name) if use_vcf else None
        result = diagnose(case, kb=svc.kb, lenient=True, genome=genome)
        store.record_analysis(case_id, result, user=user.name)
        return _redirect(f"{case_href(case_id)}/results")

    return _case_form(request, svc, user, case_id, t("run.failed"), act)


# ---------------------------------------------------------------------------- results, report
def _analysis(
    request: Request, svc: Services, user: UserRecord, case_id: str
) -> AnalysisView | None:
    """The view of the case's latest analysis (None: never analysed); every read audited."""
    store = svc.store
    analyses = store.analyses(case_id, user=user.name)
    if not analyses:
        return None
    latest = analyses[-1]
    store.set_new_results(case_id, False, user=user.name)  # whoever reads them clears the mark
    case = store.get_case(case_id, user=user.name)
    lang = negotiate(request)
    t = Translator(lang)

    def view(variants: tuple[VariantView, ...] = (), note: str | None = None) -> AnalysisView:
        return analysis_view(
            latest,
            svc.kb,
            lang=lang,
            patient=case.subject.id,
            sex=case.subject.sex.value,
            age_years=case.subject.age_years,
            variants=variants,
            variant_note=note,
        )

    shown = view()
    if shown.genome is None:
        return shown
    try:
        evidence = store.genome_evidence(case_id, svc.kb, user=user.name)
    except InputError as exc:
        return view(note=t("variants.unavailable", reason=exc.message))
    if evidence is None:
        return view(note=t("variants.unavailable", reason=t("vcf.none")))
    return view(variant_rows(evidence, shown.genes))


def _no_analysis(request: Request, user: UserRecord, case_id: str) -> HTMLResponse:
    t = Translator(negotiate(request))
    return _render(
        request,
        "error.html",
        user=user,
        heading=t("results.none"),
        detail=t("results.none_detail"),
        back_url=case_href(case_id),
        back_label=t("results.back"),
    )


@router.get("/cases/{case_id}/results", response_class=HTMLResponse)
def results_page(request: Request, svc: SvcDep, user: UserDep, case_id: str) -> HTMLResponse:
    """The latest analysis: ranking, explanations, next findings, variants, treatments."""
    if not _visible(svc, user, case_id):
        return _not_found(request, user)
    view = _analysis(request, svc, user, case_id)
    if view is None:
        return _no_analysis(request, user, case_id)
    similar: tuple[Match, ...] = ()
    similar_error = None
    try:
        similar = similar_cases(svc.store, svc.kb, case_id, user=user.name, limit=5)
    except InputError as exc:
        similar_error = exc.message
    return _render(
        request,
        "results.html",
        user=user,
        v=view,
        case_url=case_href(case_id),
        similar=similar,
        similar_error=similar_error,
    )


def _report_html(
    request: Request, user: UserRecord, view: AnalysisView, case_id: str, *, pdf: bool
) -> str:
    lang = negotiate(request)
    values: dict[str, Any] = {
        **_helpers(lang),
        "user": user,
        "here": _here(request),
        "v": view,
        "case_url": case_href(case_id),
        "pdf": pdf,
        "generated": datetime.now(UTC),
    }
    return templates.get_template("report.html").render(values)


@router.get("/cases/{case_id}/report.html", response_class=HTMLResponse)
def report_html(request: Request, svc: SvcDep, user: UserDep, case_id: str) -> HTMLResponse:
    """The report of the latest analysis, as a printable page."""
    if not _visible(svc, user, case_id):
        return _not_found(request, user)
    view = _analysis(request, svc, user, case_id)
    if view is None:
        return _no_analysis(request, user, case_id)
    html = _report_html(request, user, view, case_id, pdf=False)
    return HTMLResponse(html, headers=_NO_STORE)


def _pdf_name(case_id: str) -> str:
    return "raredx-report-" + (re.sub(r"[^A-Za-z0-9._-]+", "_", case_id)[:80] or "case") + ".pdf"


@router.get("/cases/{case_id}/report.pdf")
async def report_pdf(request: Request, svc: SvcDep, user: UserDep, case_id: str) -> Response:
    """The report of the latest analysis as a PDF (WeasyPrint)."""
    visible = await run_in_threadpool(_visible, svc, user, case_id)
    if not visible:
        return _not_found(request, user)
    view = await run_in_threadpool(_analysis, request, svc, user, case_id)
    if view is None:
        return _no_analysis(request, user, case_id)
    html = _report_html(request, user, view, case_id, pdf=True)
    pdf = await run_in_threadpool(render_pdf, html)
    disposition = "attachment" if request.query_params.get("download") else "inline"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **_NO_STORE,
            "Content-Disposition": f'{disposition}; filename="{_pdf_name(case_id)}"',
        },
    )
