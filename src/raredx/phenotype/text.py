"""Clinical text to HPO terms: concept recognition with negation, family and hypothesis context.

`extract_phenotype(kb, text)` finds every mention of a phenotypic abnormality in English or
French text (labels, synonyms, French translations and the curated clinical lexicon in
`phenotype/data/`; case, accents, plurals, inflections, word order, hyphens and common
abbreviations such as AIHA, HSM, ITP, HLH or SMG do not matter) and says for each whether the
patient has it (`present`), has been found not to have it (`excluded`: "no lymphadenopathy",
"pas d'hépatomégalie"), whether it is a relative's (`family`: "his mother has ITP"), or only
considered (`uncertain`: "suspected HLH", "à éliminer").

How: a compiled dictionary (`_lexicon`: one hash probe per run of words), longest match first
so nested and overlapping mentions resolve to the most specific term ("autoimmune hemolytic
anemia", not "anemia" inside it); coordinated findings are distributed ("renal and ear
anomalies" gives both); an abbreviation defined in the text ("hearing loss (HL)") stands for
its term from then on, and one defined as something else is not read as the lexicon's; then
NegEx/ConText-style triggers (`_context`). About 0.3-0.5 ms for an abstract on one core
once the matcher is built (2-3 s, on first use per KB and language; cached while the KB
lives). See benchmarks/text_to_hpo.py.

>>> from raredx.kb import load_kb
>>> kb = load_kb()  # doctest: +SKIP
>>> ex = extract_phenotype(kb, "Splenomegaly, no lymphadenopathy. His mother has ITP.")
>>> [(t.id, t.status) for t in ex.terms]  # doctest: +SKIP
[('HP:0001744', 'present'), ('HP:0002716', 'excluded'), ('HP:0001973', 'family')]
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

from raredx._files import read_bounded
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype._context import MentionStatus, statuses
from raredx.phenotype._lexicon import STOP, Entry, LangMatcher, Scan, TextLang, matcher

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_NOTE_CHARS",
    "ExtractedTerm",
    "Extraction",
    "Mention",
    "MentionStatus",
    "NoteLang",
    "decode_note",
    "detect_language",
    "extract_phenotype",
    "read_note",
]

NoteLang = Literal["en", "fr", "auto"]
"""Language of a note: English, French, or detected from its function words."""

MAX_NOTE_CHARS: Final = 1_000_000
"""Longest text `extract_phenotype` accepts, in characters (a long discharge letter has
~20,000; this is ~500 pages)."""

MAX_NOTE_BYTES: Final = 4 * MAX_NOTE_CHARS
"""Largest file `read_note` reads, in bytes."""

_STATUS_ORDER: Final[dict[MentionStatus, int]] = {
    "present": 0,
    "excluded": 1,
    "uncertain": 2,
    "family": 3,
}


@dataclass(frozen=True, slots=True)
class Mention:
    """One mention of a term: `text == note[start:end]` (character offsets, end exclusive)."""

    start: int
    end: int
    text: str
    term_id: str
    label: str
    status: MentionStatus

    @property
    def excluded(self) -> bool:
        return self.status == "excluded"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: start, end, text, term_id, label, status."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "term_id": self.term_id,
            "label": self.label,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class ExtractedTerm:
    """A term found in the text, with every span that names it.

    `status` sums up its mentions: present if any mention is present, else excluded if any is,
    else uncertain, else family. `excluded` is True for status "excluded" only: a relative's
    finding or a hypothesis is neither the patient's finding nor an excluded one. An exclusion
    of an ancestor of a present term ("no anemia ... hemolytic anemia") cannot hold (a patient
    with a term has its ancestors) and becomes "uncertain".
    """

    id: str
    label: str
    status: MentionStatus
    excluded: bool
    spans: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: id, label, excluded, status and spans (``[start, end]`` pairs)."""
        return {
            "id": self.id,
            "label": self.label,
            "excluded": self.excluded,
            "status": self.status,
            "spans": [list(s) for s in self.spans],
        }


@dataclass(frozen=True, slots=True)
class Extraction:
    """All terms (in order of first mention) and all mentions (in text order) of one text."""

    terms: tuple[ExtractedTerm, ...]
    mentions: tuple[Mention, ...]
    language: TextLang

    @property
    def present_ids(self) -> tuple[str, ...]:
        """Ids of the terms the patient has (status present)."""
        return tuple(t.id for t in self.terms if t.status == "present")

    @property
    def excluded_ids(self) -> tuple[str, ...]:
        """Ids of the terms the patient was found not to have."""
        return tuple(t.id for t in self.terms if t.excluded)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the language, the terms and the mentions (`ExtractedTerm.to_dict`,
        `Mention.to_dict`), as ``raredx phenotype extract --format json`` prints them."""
        return {
            "language": self.language,
            "terms": [t.to_dict() for t in self.terms],
            "mentions": [m.to_dict() for m in self.mentions],
        }


# ---------------------------------------------------------------------------- language
_WORD = re.compile(r"[^\W\d_]+")
_FRENCH_LETTERS = re.compile("[éèêëàâçùûôîïœÉÈÊÀÇ]")
_FR_WORDS: Final = frozenset(
    {"le", "la", "les", "des", "du", "de", "et", "est", "une", "un", "dans", "pour", "avec"}
    | {"pas", "sur", "au", "aux", "il", "elle", "sont", "ont", "chez", "sans", "ou", "mais"}
    | {"sa", "son", "ses", "qui", "par", "ce", "cette", "été"}
)
_EN_WORDS: Final = frozenset(
    {"the", "of", "and", "is", "was", "with", "in", "to", "for", "no", "not", "on", "are"}
    | {"were", "has", "have", "his", "her", "by", "from", "a", "an", "this", "that", "at"}
    | {"or", "but", "which", "who"}
)


def detect_language(text: str) -> TextLang:
    """French ("fr") if French function words outnumber English ones in `text` (or, with as
    many of each, if it has French accents: "Splénomégalie."), else English ("en")."""
    fr = en = 0
    head = text[:20_000]
    for word in _WORD.findall(head.lower()):
        if word in _FR_WORDS:
            fr += 1
        elif word in _EN_WORDS:
            en += 1
    if fr == en:
        return "fr" if _FRENCH_LETTERS.search(head) else "en"
    return "fr" if fr > en else "en"


# ---------------------------------------------------------------------------- input
def _check(text: object, lang: object) -> None:
    problems: list[str] = []
    if not isinstance(text, str):
        problems.append(f"text must be a string, not {type(text).__name__}")
    elif not text.strip():
        problems.append("the text is empty")
    elif len(text) > MAX_NOTE_CHARS:
        problems.append(
            f"the text has {len(text):,} characters; at most {MAX_NOTE_CHARS:,} "
            "(split it into several notes)"
        )
    if lang not in get_args(NoteLang):
        problems.append(f"unknown language {lang!r}; use one of: en, fr, auto")
    if problems:
        raise InputError("cannot extract phenotype terms from this text", problems)


def decode_note(data: bytes, source: str = "input") -> str:
    """UTF-8 text of a note read as bytes (a BOM is dropped); InputError for binary data, a
    non-UTF-8 encoding, or more than MAX_NOTE_BYTES."""
    if len(data) > MAX_NOTE_BYTES:
        raise InputError(
            f"{source} is too large", [f"{len(data):,} bytes; at most {MAX_NOTE_BYTES:,}"]
        )
    if b"\x00" in data:
        raise InputError(f"{source} is not text", ["it contains NUL bytes (a binary file?)"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source} is not UTF-8 text",
            [f"invalid byte at offset {exc.start}; re-save the file as UTF-8"],
        ) from None
    control = sum(1 for c in text[:10_000] if ord(c) < 32 and c not in "\t\n\r\f\v")
    if control > 10:
        raise InputError(f"{source} is not text", [f"{control} control characters (binary?)"])
    return text


def read_note(path: str | Path) -> str:
    """The text of a note file (UTF-8); InputError if missing, unreadable, binary or too big."""
    return decode_note(read_bounded(path, MAX_NOTE_BYTES, "a text file"), str(path))


# ---------------------------------------------------------------------------- matching
_Match = tuple[int, int, Entry]  # first word, last word, entry
_CONJUNCTIONS: Final[dict[TextLang, frozenset[str]]] = {
    "en": frozenset({"and", "or", "nor"}),
    "fr": frozenset({"et", "ou", "ni"}),
}
_DEFINITION = re.compile(r"\(\s*([A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)\s*[);,]")
"""An abbreviation defined in brackets after its long form: "hearing loss (HL)"."""
_MAX_DEFINED: Final = 200
"""Most abbreviations defined in one text that are followed through it."""


def _select(kb: KnowledgeBase, candidates: list[_Match], nested: bool) -> list[_Match]:
    """Non-overlapping matches, longest (then best-ranked, then leftmost) first. With
    `nested`, a match inside a chosen one is kept too when its term is an ancestor of the
    chosen term ("hearing loss" inside "sensorineural hearing loss")."""
    chosen: list[_Match] = []
    owner: dict[int, _Match] = {}
    inner: list[_Match] = []
    for c in sorted(candidates, key=lambda c: (c[0] - c[1], -c[2][2], c[0])):
        words = range(c[0], c[1] + 1)
        holders = {id(owner[k]): owner[k] for k in words if k in owner}
        if not holders:
            for k in words:
                owner[k] = c
            chosen.append(c)
        elif nested and len(holders) == 1:
            (outer,) = holders.values()
            if (
                outer[0] <= c[0]
                and c[1] <= outer[1]
                and outer[2][0] != c[2][0]
                and kb.is_ancestor(c[2][0], outer[2][0])
            ):
                inner.append(c)
    if inner:
        seen: set[tuple[int, int, int]] = set()
        for c in inner:
            key = (c[0], c[1], c[2][0])
            if key not in seen:
                seen.add(key)
                chosen.append(c)
    return chosen


def _lookup(m: LangMatcher, scan: Scan, words: list[int]) -> Entry | None:
    entries = m.table.get(sum(scan.hashes[k] for k in words))
    if entries is None:
        return None
    return LangMatcher._pick(entries, [scan.vid[k] for k in words])


def _recurrent(m: LangMatcher, scan: Scan, chosen: list[_Match]) -> list[_Match]:
    """A finding next to "recurrent"/"à répétition"/"récidivant(e)s" becomes its "Recurrent X"
    term when HPO has one, even with a word of the finding left out ("otites moyennes aiguës
    à répétition" is Recurrent otitis media); findings coordinated with it share the word
    ("sinusites et bronchites à répétition")."""
    vid = scan.vid
    rec = m.recurrent
    if rec not in vid:
        return chosen
    out: list[_Match] = []
    used: dict[int, int] = {}  # first word of an upgraded match -> its recurrence word
    for first, last, entry in sorted(chosen, key=lambda c: -c[0]):  # right to left
        content = [k for k in range(first, last + 1) if vid[k] >= 0]
        found: _Match | None = None
        own = [k for k in content if vid[k] == rec]
        if own:
            used[first] = own[0]
        else:
            near = [_next_word(vid, last, 1), _next_word(vid, first, -1)]
            conj = last + 1
            if conj + 1 < len(vid) and scan.folded[conj] in _CONJUNCTIONS[m.lang]:
                shared = used.get(conj + 1)
                if shared is not None:
                    near.append(shared)
            for k in near:
                if k < 0 or vid[k] != rec:
                    continue
                trials = [content]
                if len(content) > 1:
                    trials += [content[:i] + content[i + 1 :] for i in range(len(content))]
                for words in trials:
                    picked = _lookup(m, scan, [*words, k])
                    if picked is not None and picked[0] != entry[0]:
                        found = (
                            (first, last, picked)
                            if k > last + 2
                            else (min(first, k), max(last, k), picked)
                        )
                        used[first] = k
                        break
                if found is not None:
                    break
        out.append(found or (first, last, entry))
    out.reverse()
    return out


def _next_word(vid: list[int], k: int, step: int) -> int:
    """Index of the first non-stop word from k + step in direction `step` (within two
    tokens), or -1."""
    for j in (k + step, k + 2 * step):
        if not 0 <= j < len(vid):
            return -1
        if vid[j] != STOP:
            return j
    return -1


def _conjunct(scan: Scan, lo: int, hi: int) -> bool:
    """Are tokens lo..hi all vocabulary words?"""
    if lo < 0 or hi >= len(scan.vid):
        return False
    return all(scan.vid[k] >= 0 for k in range(lo, hi + 1))


def _coordinated(
    kb: KnowledgeBase, m: LangMatcher, scan: Scan, chosen: list[_Match]
) -> tuple[list[_Match], set[tuple[int, int, int]]]:
    """Findings sharing words with a matched one across "and"/"or"/"," (and "et", "ou",
    "ni"). Shared head on the right: in "branchial, otic and renal anomalies" the match
    "renal anomalies" lends "anomalies" to "otic" and "branchial"; each such mention spans
    from its modifier to the end of the head. Shared start on the left: in
    "hypopigmentation of skin or hair", "hypopigmentation of skin" lends
    "hypopigmentation" to "hair"; the mention spans from the start of the match to the end
    of the new word. A one-word conjunct that makes no name is skipped; anything else ends the
    list. Returns the extra mentions and the (first, last, term) of matches they supersede: a
    match of the conjunct alone naming the same term or an ancestor ("sinusites" once
    "sinusites et bronchites à répétition" gives Recurrent sinusitis).
    """
    extra: list[_Match] = []
    superseded: set[tuple[int, int, int]] = set()

    by_first: dict[int, list[_Match]] = {}
    for c in chosen:
        by_first.setdefault(c[0], []).append(c)

    def supersede(lo: int, hi: int, term: int) -> None:
        for k in range(lo, hi + 1):
            for c in by_first.get(k, ()):
                if c[1] <= hi and kb.is_ancestor(c[2][0], term):
                    superseded.add((c[0], c[1], c[2][0]))

    conj = _CONJUNCTIONS[m.lang]
    vid, folded = scan.vid, scan.folded
    n = len(vid)
    for first, last, entry in chosen:
        if last == first:
            continue
        before = folded[first - 1] if first else ""
        after = folded[last + 1] if last + 2 < n else ""
        if not (before in conj or after in conj or after == ","):
            continue
        content = [k for k in range(first, last + 1) if vid[k] >= 0]
        if len(content) < 2:
            continue
        # -- modifiers on the left share the head of the match
        heads = [content[i:] for i in range(1, len(content))]
        cursor = first
        needs_conj = True
        while cursor > 0:
            p = cursor - 1
            if folded[p] in conj:
                end = p - 1
                if end >= 0 and folded[end] == ",":
                    end -= 1
            elif not needs_conj and folded[p] == ",":
                end = p - 1
            else:
                break
            hit: _Match | None = None
            for size in (2, 1):
                lo = end - size + 1
                if not _conjunct(scan, lo, end):
                    continue
                for head in heads:
                    picked = _lookup(m, scan, list(range(lo, end + 1)) + head)
                    if picked is not None and picked[0] != entry[0]:
                        hit = (lo, last, picked)
                        break
                if hit is not None:
                    break
            if hit is not None:
                extra.append(hit)
                supersede(hit[0], end, hit[2][0])
                cursor = hit[0]
            elif _conjunct(scan, end, end):
                cursor = end
            else:
                break
            needs_conj = False
        # -- words on the right replace the end of the match
        bodies = [content[:i] for i in range(len(content) - 1, 0, -1)]
        cursor = last
        while cursor + 2 < n:
            p = cursor + 1
            if folded[p] == ",":
                start = p + 2 if folded[p + 1] in conj else p + 1
            elif folded[p] in conj:
                start = p + 1
            else:
                break
            hit = None
            for size in (2, 1):
                hi = start + size - 1
                if not _conjunct(scan, start, hi):
                    continue
                for body in bodies:
                    picked = _lookup(m, scan, body + list(range(start, hi + 1)))
                    if picked is not None and picked[0] != entry[0]:
                        hit = (first, hi, picked)
                        break
                if hit is not None:
                    break
            if hit is None:
                break
            extra.append(hit)
            supersede(start, hit[1], hit[2][0])
            cursor = hit[1]
    return extra, superseded


def _same_length_fold(text: str) -> str:
    """Lower-case `text` with accents dropped, one character for one."""
    if text.isascii():
        return text.lower()
    return "".join(unicodedata.normalize("NFD", c)[0] for c in text.lower()[: len(text)])


def _long_form_start(short: str, before: str) -> int | None:
    """Where in `before` the long form of the abbreviation `short` starts (Schwartz & Hearst,
    PSB 2003: the letters of `short`, in order, within `before`, its first letter starting a
    word), or None if `short` cannot abbreviate the end of `before`."""
    s = _same_length_fold(short)
    b = _same_length_fold(before)
    if len(b) != len(before):
        return None
    si, bi = len(s) - 1, len(b) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while bi >= 0 and (b[bi] != c or (si == 0 and bi > 0 and b[bi - 1].isalnum())):
            bi -= 1
        if bi < 0:
            return None
        bi -= 1
        si -= 1
    return b.rfind(" ", 0, bi + 1) + 1


def _abbreviations(
    m: LangMatcher, text: str, scan: Scan, chosen: list[_Match]
) -> tuple[list[_Match], set[str]]:
    """Abbreviations defined in the text, "long form (SF)": when the long form is a matched
    term, every later "SF" is a mention of it; when it is something else, the lexicon's
    reading of "SF" is not used in this text (NBCCS, ITP... mean what the author says)."""
    defined: dict[str, int] = {}
    blocked: set[str] = set()
    if "(" not in text:
        return [], blocked
    by_last = {last: (first, entry) for first, last, entry in chosen}
    for d in _DEFINITION.finditer(text):
        k = bisect_left(scan.starts, d.start(1))
        if k >= len(scan.starts) or scan.starts[k] != d.start(1) or k < 2:
            continue
        short = d.group(1)
        # the long form may span up to min(|SF| + 5, 2 |SF|) words before the bracket
        n_words = min(len(short) + 5, 2 * len(short))
        lo = scan.starts[max(0, k - 1 - n_words)]
        start = _long_form_start(short, text[lo : d.start()].rstrip())
        matched = by_last.get(k - 2)
        lexicon = m.abbrevs.get(short, -1)
        if matched is not None and (
            (start is not None and lo + start >= scan.starts[matched[0]])
            or (start is None and lexicon == matched[1][0])
        ):
            defined.setdefault(short, matched[1][0])
        elif start is not None and lexicon >= 0:
            blocked.add(short)
    found: list[_Match] = []
    if defined:
        shorts = sorted(defined, key=len, reverse=True)[:_MAX_DEFINED]
        alternatives = "|".join(map(re.escape, shorts))
        for hit in re.finditer(rf"(?<![^\W_])({alternatives})s?(?![^\W_])", text):
            k = bisect_left(scan.starts, hit.start())
            if k < len(scan.starts) and scan.starts[k] == hit.start():
                found.append((k, k, (defined[hit.group(1)], (), 2, False)))
    return found, blocked


def extract_phenotype(
    kb: KnowledgeBase, text: str, lang: NoteLang = "auto", *, nested: bool = False
) -> Extraction:
    """HPO terms mentioned in `text` (English or French clinical text or abstract), with their
    spans and status; see the module docstring.

    Overlapping mentions resolve to the longest, most specific one. `nested=True` also keeps
    a mention inside a longer one when it names an ancestor of the longer one's term ("colitis"
    inside "ulcerative colitis"), as annotated corpora such as GSC+ do.

    Raises InputError for a non-string, empty or blank text, one longer than MAX_NOTE_CHARS,
    or an unknown `lang`."""
    _check(text, lang)
    language: TextLang = (
        detect_language(text) if lang == "auto" else ("fr" if lang == "fr" else "en")
    )
    m = matcher(kb, language)
    scan = m.scan(text)
    candidates = m.candidates(scan)
    abbrev: list[_Match] = []
    if max(scan.abbrev, default=-1) >= 0:
        abbrev = [(k, k, (t, (), 2, False)) for k, t in enumerate(scan.abbrev) if t >= 0]
    chosen = _recurrent(m, scan, _select(kb, candidates + abbrev, nested))
    local, blocked = _abbreviations(m, text, scan, chosen)
    if blocked:
        stems = {b.rstrip("s") for b in blocked}
        chosen = [
            c
            for c in chosen
            if not (
                c[0] == c[1]
                and c[2][1] == ()  # a lexicon abbreviation
                and text[scan.starts[c[0]] : scan.ends[c[0]]].rstrip("s") in stems
            )
        ]
    if local:
        taken = {k for c in chosen for k in range(c[0], c[1] + 1)}
        chosen += [c for c in local if c[0] not in taken]
    extra, superseded = _coordinated(kb, m, scan, chosen)
    if superseded:
        chosen = [c for c in chosen if (c[0], c[1], c[2][0]) not in superseded]
    chosen += extra
    chosen.sort(key=lambda c: (scan.starts[c[0]], -scan.ends[c[1]]))
    status = statuses(text, scan, language, [(c[0], c[1], c[2][3]) for c in chosen])
    return _assemble(kb, m, text, scan, chosen, status, language)


def _assemble(
    kb: KnowledgeBase,
    m: LangMatcher,
    text: str,
    scan: Scan,
    chosen: list[_Match],
    status: list[MentionStatus],
    language: TextLang,
) -> Extraction:
    mentions: list[Mention] = []
    seen: set[tuple[int, int, int]] = set()
    per_term: dict[int, list[tuple[int, int, MentionStatus]]] = {}
    for (first, last, entry), st in zip(chosen, status, strict=True):
        start, end = scan.starts[first], scan.ends[last]
        term = entry[0]
        if (start, end, term) in seen:
            continue
        seen.add((start, end, term))
        mentions.append(
            Mention(start, end, text[start:end], kb.term_ids[term], kb.term_labels[term], st)
        )
        per_term.setdefault(term, []).append((start, end, st))
    final: dict[int, MentionStatus] = {
        t: min((s for _, _, s in spans), key=_STATUS_ORDER.__getitem__)
        for t, spans in per_term.items()
    }
    excluded = [t for t, s in final.items() if s == "excluded"]
    if excluded:
        present = [t for t, s in final.items() if s == "present"]
        for t in excluded:
            if any(t in m.ancestors(p) for p in present):
                final[t] = "uncertain"
    terms = tuple(
        ExtractedTerm(
            kb.term_ids[t],
            kb.term_labels[t],
            final[t],
            final[t] == "excluded",
            tuple((a, b) for a, b, _ in spans),
        )
        for t, spans in per_term.items()
    )
    return Extraction(terms, tuple(mentions), language)
