"""The one parser for HPO terms typed by people or read from files, used by CLI, API and files.

An item is one of:

- an id: `HP:0001873`, `hp:0001873`, `HP_0001873`, the OBO PURL
  `http://purl.obolibrary.org/obo/HP_0001873`, or the bare 7 digits `0001873`. Anything else
  that looks like an id (`HP:1873`, `HP0001873`, `1873`) is rejected as malformed, with the
  id it probably meant as a suggestion;
- an id annotated with a name, as copied from OBO files or other tools:
  `HP:0001873 ! Thrombocytopenia`, `HP:0001873 Thrombocytopenia`,
  `Thrombocytopenia (HP:0001873)`. The id decides; a name that is not one of the term's
  names only adds a warning;
- an exact label or synonym, English or French, ignoring case, accents and punctuation
  (`thrombopénie`, `THROMBOPENIE`, `Low platelet count`).

Alternative ids and obsolete ids map to their current term with a warning. Obsolete ids
without replacement, unknown names and malformed ids raise one `InputError` that lists every
offending item, with a "did you mean" suggestion where one is found. Blank items are ignored
and an item naming a term already given is dropped (with a warning if spelled differently).

A name shared by several terms resolves by rank: English label (4 points), French label (3),
English synonym (2), French synonym (1); a term that carries the name in several ways adds
the points up (e.g. French label and French synonym: 4). The highest total wins; a tie is an
error listing the candidates. A warning is added whenever another term also has that name as
a label.

Free text holding several items is split by `split_term_text`: newlines, semicolons and tabs
always separate items; a comma separates items too, except inside a name of the ontology (89
HPO labels contain commas, e.g. "Intellectual disability, mild"); ids separated only by
spaces are split apart. An item holding several ids is otherwise an error, never half-read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Final, Literal

from raredx.errors import InputError
from raredx.kb import KnowledgeBase, TermLookupKind
from raredx.phenotype.search import MAX_QUERY_CHARS, NameKind, normalize_text, term_search

__all__ = [
    "MAX_ITEM_CHARS",
    "MAX_TERMS",
    "MAX_TEXT_CHARS",
    "ParsedPhenotype",
    "ParsedTerms",
    "ResolvedTerm",
    "Via",
    "parse_observed_and_excluded",
    "parse_term",
    "parse_terms",
    "split_term_text",
]

Via = Literal["id", "alt_id", "obsolete", "label", "synonym", "label_fr", "synonym_fr"]
"""How an item reached its term: current id, alternative id, obsolete id, or a name."""

MAX_TERMS: Final = 10_000
"""Most items one call accepts (a case has tens; the whole HPO has ~19,000 terms)."""

MAX_ITEM_CHARS: Final = 500
"""Longest item accepted, in characters (the longest HPO name has ~180)."""

MAX_TEXT_CHARS: Final = 1_000_000
"""Longest text `split_term_text` accepts, in characters."""

_MAX_SUGGESTIONS = 25  # "did you mean" look-ups per call (each costs ~1 ms)
_MIN_SUGGEST_CHARS = 4  # shorter unknown names get no suggestion (it would be noise)
_NAME_POINTS: Final[dict[NameKind, int]] = {
    "label": 4,
    "label_fr": 3,
    "synonym": 2,
    "synonym_fr": 1,
}

_ID = r"(?:https?://purl\.obolibrary\.org/obo/)?hp[:_](\d{7})"
_EXACT_ID = re.compile(rf"{_ID}|(\d{{7}})", re.IGNORECASE)
_ID_THEN_NAME = re.compile(rf"{_ID}\s*(?:[!:|=-]\s*|\s)(.+)", re.IGNORECASE | re.DOTALL)
_NAME_THEN_ID = re.compile(rf"(.+?)\s*[(\[]\s*{_ID}\s*[)\]]", re.IGNORECASE | re.DOTALL)
_ANY_ID = re.compile(r"hp[:_]\d{7}", re.IGNORECASE)
_ID_RUN = re.compile(r"\s*hp[:_]\d{7}(?:\s+hp[:_]\d{7})+\s*", re.IGNORECASE)
_ID_LIKE = re.compile(r"(?:hp\s*[:_]?\s*)?(\d+)", re.IGNORECASE)
_ALWAYS_SPLIT = re.compile(r"[\n\r\t;]+")
_COMMA = re.compile(",")


@dataclass(frozen=True, slots=True)
class ResolvedTerm:
    """One input item resolved to a current term.

    `index` is the term's index in the KB, `id`/`label` the current term, `given` the item as
    written (stripped), `via` how it was recognised.
    """

    index: int
    id: str
    label: str
    given: str
    via: Via


@dataclass(frozen=True, slots=True)
class ParsedTerms:
    """Distinct resolved terms in input order, and the warnings produced while resolving."""

    terms: tuple[ResolvedTerm, ...]
    warnings: tuple[str, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Current term ids, in input order."""
        return tuple(t.id for t in self.terms)

    @property
    def indices(self) -> tuple[int, ...]:
        """KB term indices, in input order."""
        return tuple(t.index for t in self.terms)


@dataclass(frozen=True, slots=True)
class ParsedPhenotype:
    """Observed and excluded terms of one patient, checked not to contradict each other."""

    observed: tuple[ResolvedTerm, ...]
    excluded: tuple[ResolvedTerm, ...]
    warnings: tuple[str, ...]


def _show(item: str, width: int = 60) -> str:
    """`item` quoted for a message, shortened to about `width` characters."""
    return repr(item if len(item) <= width else item[: width - 3] + "...")


def _name_of(kb: KnowledgeBase, index: int) -> str:
    return f"{kb.term_ids[index]} {kb.term_labels[index]}"


def split_term_text(text: str, kb: KnowledgeBase | None = None) -> list[str]:
    """Split free text into HPO items: `"HP:0001873, HP:0001744; splenomegaly"` -> 3 items.

    Newlines, semicolons and tabs always separate items. Commas separate items too, except
    when, given `kb`, the comma-joined pieces form a name of one of its terms
    ("Intellectual disability, mild" stays whole). A run of ids separated only by spaces
    ("HP:0001873 HP:0001744") is split into the ids. Items are stripped; blank ones dropped.
    Raises InputError for text longer than MAX_TEXT_CHARS.
    """
    if not isinstance(text, str):
        raise InputError("HPO terms must be text", [f"got {type(text).__name__}"])
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            "too much HPO text", [f"{len(text)} characters given; at most {MAX_TEXT_CHARS}"]
        )
    index = term_search(kb) if kb is not None else None
    items: list[str] = []
    for segment in _ALWAYS_SPLIT.split(text):
        # Pieces between commas, as (start, end) offsets into the segment.
        commas = [m.start() for m in _COMMA.finditer(segment)]
        bounds = list(zip([0, *(c + 1 for c in commas)], [*commas, len(segment)], strict=True))
        pieces = [segment[a:b] for a, b in bounds]
        i = 0
        while i < len(pieces):
            end = i + 1
            if (
                index is not None
                and index.max_commas
                and normalize_text(pieces[i]) in index.comma_heads
            ):
                for j in range(min(len(pieces), i + index.max_commas + 1), i + 1, -1):
                    if index.is_name(segment[bounds[i][0] : bounds[j - 1][1]]):
                        end = j
                        break
            item = segment[bounds[i][0] : bounds[end - 1][1]].strip()
            if _ID_RUN.fullmatch(item):
                items.extend(item.split())
            elif item:
                items.append(item)
            i = end
    return items


def _limited(items: Iterable[str]) -> list[str]:
    """The items as a list; InputError past MAX_TERMS without reading the rest."""
    taken = list(islice(iter(items), MAX_TERMS + 1))
    if len(taken) > MAX_TERMS:
        raise InputError(
            "too many HPO terms", [f"more than {MAX_TERMS} items given; at most {MAX_TERMS}"]
        )
    return taken


class _Resolver:
    """Resolves items one by one, collecting terms, warnings and problems."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.suggestions_left = _MAX_SUGGESTIONS

    # ------------------------------------------------------------------ one item
    def resolve(self, raw: object, warnings: list[str]) -> ResolvedTerm | str | None:
        """The term `raw` names, a problem message, or None for a blank item."""
        if not isinstance(raw, str):
            return f"{raw!r}: not text"
        item = raw.strip()
        if not item:
            return None
        if len(item) > MAX_ITEM_CHARS:
            return f"{_show(item)}: too long ({len(item)} characters; at most {MAX_ITEM_CHARS})"
        m = _EXACT_ID.fullmatch(item)
        if m:
            return self._by_id("HP:" + (m.group(1) or m.group(2)), item, warnings)
        n_ids = len(_ANY_ID.findall(item))
        if n_ids > 1:
            return (
                f"{_show(item)}: {n_ids} HPO ids in one item; separate them with commas, "
                "semicolons or newlines"
            )
        m = _ID_THEN_NAME.fullmatch(item)
        if m:
            return self._annotated_id("HP:" + m.group(1), m.group(2), item, warnings)
        m = _NAME_THEN_ID.fullmatch(item)
        if m:
            return self._annotated_id("HP:" + m.group(2), m.group(1), item, warnings)
        m = _ID_LIKE.fullmatch(item)
        if m:
            return self._malformed_id(m.group(1), item)
        return self._by_name(item, warnings)

    def _by_id(self, curie: str, item: str, warnings: list[str]) -> ResolvedTerm | str:
        kb = self.kb
        found = kb.lookup_term(curie)
        if found is None:
            if kb.is_obsolete_without_replacement(curie):
                return (
                    f"{_show(item)}: {curie} is obsolete in HPO {kb.hpo_release} and has no "
                    "replacement; choose a current term"
                )
            return f"{_show(item)}: {curie} is not a term of HPO {kb.hpo_release}"
        if found.kind is TermLookupKind.ALT_ID:
            target = _name_of(kb, found.index)
            warnings.append(f"{curie} is an alternative id of {target}; using {found.term_id}")
            via: Via = "alt_id"
        elif found.kind is TermLookupKind.OBSOLETE:
            warnings.append(f"{curie} is obsolete; replaced by {_name_of(kb, found.index)}")
            via = "obsolete"
        else:
            via = "id"
        return ResolvedTerm(found.index, found.term_id, kb.term_labels[found.index], item, via)

    def _annotated_id(
        self, curie: str, name: str, item: str, warnings: list[str]
    ) -> ResolvedTerm | str:
        resolved = self._by_id(curie, item, warnings)
        if isinstance(resolved, ResolvedTerm):
            names = term_search(self.kb).exact_names(name)
            if not any(t == resolved.index for t, _, _ in names):
                warnings.append(
                    f"{_show(item)}: {_show(name.strip())} is not a name of "
                    f"{_name_of(self.kb, resolved.index)}; the id was used"
                )
        return resolved

    def _malformed_id(self, digits: str, item: str) -> str:
        message = f"{_show(item)}: malformed HPO id (expected HP: followed by 7 digits)"
        if len(digits) <= 7:
            curie = "HP:" + digits.zfill(7)
            found = self.kb.lookup_term(curie)
            if found is not None:
                message += f"; did you mean {curie} ({self.kb.term_labels[found.index]})?"
        return message

    def _by_name(self, item: str, warnings: list[str]) -> ResolvedTerm | str:
        kb = self.kb
        names = term_search(kb).exact_names(item)
        if not names:
            return self._unknown(item)
        points: dict[int, int] = {}
        best_kind: dict[int, NameKind] = {}
        labelled: set[int] = set()
        for t, kind, _ in names:
            if points.get(t, 0) == 0 or _NAME_POINTS[kind] > _NAME_POINTS[best_kind[t]]:
                best_kind[t] = kind
            points[t] = points.get(t, 0) + _NAME_POINTS[kind]
            if kind in ("label", "label_fr"):
                labelled.add(t)
        # Ties between labels are translation collisions (FR "Microcéphalie" labels both
        # Microcephaly and Decreased head circumference): a term used directly in at least twice
        # as many annotations as any other wins, with a warning. Other ties stay an error.
        count = kb.term_annotation_count
        ranked = sorted(points, key=lambda t: (-points[t], -int(count[t]), kb.term_ids[t]))
        tied = [t for t in ranked if points[t] == points[ranked[0]]]
        label_tie = len(tied) > 1 and all(t in labelled for t in tied)
        runner_up = max((int(count[t]) for t in tied[1:]), default=0)
        clear_winner = label_tie and int(count[tied[0]]) >= max(1, 2 * runner_up)
        if len(tied) > 1 and not clear_winner:
            return (
                f"{_show(item)}: ambiguous; it names "
                + ", ".join(_name_of(kb, t) for t in tied)
                + "; give the id instead"
            )
        chosen = ranked[0]
        others = sorted(labelled - {chosen}, key=kb.term_ids.__getitem__)
        if others:
            warnings.append(
                f"{_show(item)} also names "
                + ", ".join(_name_of(kb, t) for t in others)
                + f"; using {_name_of(kb, chosen)}"
            )
        return ResolvedTerm(
            chosen, kb.term_ids[chosen], kb.term_labels[chosen], item, best_kind[chosen]
        )

    def _unknown(self, item: str) -> str:
        message = f"{_show(item)}: unknown HPO term"
        if (
            self.suggestions_left > 0
            and len(item) <= MAX_QUERY_CHARS
            and len(normalize_text(item)) >= _MIN_SUGGEST_CHARS
        ):
            self.suggestions_left -= 1
            hits = term_search(self.kb).search(item, limit=1)
            if hits:
                message += f"; did you mean {hits[0].id} ({hits[0].label})?"
        return message

    # ------------------------------------------------------------------ many items
    def resolve_all(
        self, items: Iterable[str], problems: list[str], label: str = ""
    ) -> tuple[list[ResolvedTerm], list[str]]:
        """Distinct resolved terms and warnings; problems (prefixed by `label`) appended."""
        warnings: list[str] = []
        terms: list[ResolvedTerm] = []
        first: dict[int, ResolvedTerm] = {}
        for raw in items:
            result = self.resolve(raw, warnings)
            if result is None:
                continue
            if isinstance(result, str):
                problems.append(label + result)
                continue
            earlier = first.get(result.index)
            if earlier is None:
                first[result.index] = result
                terms.append(result)
            elif normalize_text(earlier.given) != normalize_text(result.given):
                warnings.append(
                    f"{_show(earlier.given)} and {_show(result.given)} both name "
                    f"{_name_of(self.kb, result.index)}; counted once"
                )
        return terms, [label + w for w in warnings]


def _as_items(kb: KnowledgeBase, items: str | Iterable[str]) -> list[str]:
    if isinstance(items, str):
        return _limited(split_term_text(items, kb))
    return _limited(items)


def parse_terms(kb: KnowledgeBase, items: str | Iterable[str]) -> ParsedTerms:
    """Resolve HPO items (ids or names; see the module docstring) to distinct current terms.

    `items` is an iterable of items, or one string split by `split_term_text`. Raises one
    InputError listing every unknown, malformed, ambiguous or obsolete-without-replacement
    item, or if more than MAX_TERMS items are given.
    """
    problems: list[str] = []
    terms, warnings = _Resolver(kb).resolve_all(_as_items(kb, items), problems)
    if problems:
        raise InputError("unknown or malformed HPO terms", problems)
    return ParsedTerms(tuple(terms), tuple(warnings))


def parse_term(kb: KnowledgeBase, item: str) -> ResolvedTerm:
    """Resolve one item (id or name, never split at commas); InputError if it names none."""
    problems: list[str] = []
    terms, _ = _Resolver(kb).resolve_all([item], problems)
    if problems:
        raise InputError("unknown or malformed HPO term", problems)
    if not terms:
        raise InputError("unknown or malformed HPO term", ["empty HPO term"])
    return terms[0]


def _contradictions(
    kb: KnowledgeBase, observed: list[ResolvedTerm], excluded: list[ResolvedTerm]
) -> Iterator[str]:
    """An excluded term may not be an observed term nor one of its ancestors (true-path
    rule: a patient with a term has all its ancestors)."""
    excluded_by_index = {t.index: t for t in excluded}
    for obs in observed:
        for a in kb.ancestors(obs.index).tolist():
            exc = excluded_by_index.get(a)
            if exc is None:
                continue
            if exc.index == obs.index:
                yield f"{_name_of(kb, obs.index)} is both observed and excluded"
            else:
                yield (
                    f"{_name_of(kb, obs.index)} is observed, so its ancestor "
                    f"{_name_of(kb, exc.index)} cannot be excluded"
                )


def parse_observed_and_excluded(
    kb: KnowledgeBase,
    observed: str | Iterable[str],
    excluded: str | Iterable[str] = (),
) -> ParsedPhenotype:
    """Resolve a patient's observed and excluded terms and check they are consistent.

    Raises one InputError listing every bad item of both lists (prefixed "observed:" or
    "excluded:") and every contradiction: a term both observed and excluded, or an excluded
    ancestor of an observed term.
    """
    observed_items = _as_items(kb, observed)
    excluded_items = _as_items(kb, excluded)
    if len(observed_items) + len(excluded_items) > MAX_TERMS:
        raise InputError("too many HPO terms", [f"at most {MAX_TERMS} items in all"])
    resolver = _Resolver(kb)
    bad: list[str] = []
    obs, obs_warnings = resolver.resolve_all(observed_items, bad, "observed: ")
    exc, exc_warnings = resolver.resolve_all(excluded_items, bad, "excluded: ")
    contradictions = list(_contradictions(kb, obs, exc))
    if bad or contradictions:
        if not contradictions:
            message = "unknown or malformed HPO terms"
        elif not bad:
            message = "contradictory observed and excluded HPO terms"
        else:
            message = "unknown, malformed or contradictory HPO terms"
        raise InputError(message, bad + contradictions)
    return ParsedPhenotype(tuple(obs), tuple(exc), tuple(obs_warnings + exc_warnings))
