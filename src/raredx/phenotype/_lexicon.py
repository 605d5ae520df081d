"""The compiled dictionary behind `extract_phenotype`: one matcher per language.

Every name of every phenotypic-abnormality term (HPO label, EXACT/RELATED synonyms; French
labels and synonyms for French) plus the curated lexicon in `phenotype/data/` is cut into
words, each word folded (`normalize_text`), stemmed (`_stem`) and mapped through the curated
word variants ("renal" -> "kidney", "anomaly" -> "abnormal"); stop words ("of", "the"; "de",
"la") are dropped. A name is then stored under an order-free key: the sum of one random 63-bit
number per word. Text is scanned the same way, and every run of up to `max_words` consecutive
content words (stop words skipped, never across punctuation or unknown words) is looked up by
its running sum: one dict probe per window, no regex or loop per term. A window stops early
when no name holds all its words (the longest name holding each word, and the set of word
pairs found together in some name, bound it). A hit is checked word by word; a name whose
words come in the same order as the text wins over a reordering of another name. Side words
("left", "bilateral", "gauche") may be skipped inside a window. One-word matches must be
the name up to inflection and spelling (or an adjective of it: "anemic"), so that stemming
never reads "order" as "Ordering" (a synonym of Atypical sorting).

Abbreviations (all-capital synonyms such as "GDD", curated ones such as "AIHA", "HSM", "SMG")
match case-sensitively, whole words only.
"""

from __future__ import annotations

import csv
import re
import threading
import weakref
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate, combinations, compress
from typing import Final, Literal

import numpy as np

from raredx.kb import KnowledgeBase
from raredx.phenotype._stem import light_en, light_fr, stem_en, stem_fr
from raredx.phenotype.search import normalize_text

__all__ = [
    "CURATED_FILES",
    "CuratedName",
    "LangMatcher",
    "Scan",
    "TextLang",
    "curated_names",
    "matcher",
]

TextLang = Literal["en", "fr"]

PHENOTYPIC_ABNORMALITY: Final = "HP:0000118"

CURATED_FILES: Final = ("lexicon_en.tsv", "lexicon_fr.tsv")
"""Curated names: columns hpo_id, text, kind (synonym|abbreviation|negated), source, note."""

_MAX_WORDS: Final = 12
"""Longest run of content words looked up (longer names are kept but never match)."""
_MAX_TOKEN_CHARS: Final = 60
_CACHE_LIMIT: Final = 200_000

# Names: word (hyphenated compounds kept together) | sentence end | clause break.
_SCAN = re.compile(
    r"([^\W_]+(?:[-\u2010\u2011][^\W_]+)*)|([.!?;](?=\s|$)|\n)|([,:()\[\]{}/|\u2022])"
)
_HYPHENS = re.compile(r"[-\u2010\u2011]")
_TOKENS = re.compile(r"([^\W_]+|[.!?;](?=\s|$)|\n|[,:()\[\]{}/|\u2022])")
"""Words, sentence ends and clause breaks (captured: `split` keeps them between the gaps)."""
_HYPHEN = re.compile(r"-(?=[^\W_])")
"""A hyphen before a word: with a word right before it, it joins a compound ("pre-auricular",
"café-au-lait")."""
_PUNCTUATION: Final = ".!?;\n,:()[]{}/|\u2022"
_DASHES: Final = {0x2010: "-", 0x2011: "-"}
"""Unicode hyphens read as "-" (same length: offsets do not move)."""
_ABBREVIATION = re.compile(r"[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*")
"""All-capital word with at least two capitals: an HPO synonym of this shape ("GDD", "VSD")
is an abbreviation, matched case-sensitively."""

_STOP: Final[dict[TextLang, frozenset[str]]] = {
    "en": frozenset(
        {"a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "from", "as", "its"}
        | {"his", "her", "their", "s"}
    ),
    "fr": frozenset(
        {"de", "du", "des", "d", "la", "le", "les", "l", "un", "une", "en", "au", "aux", "a"}
        | {"sa", "son", "ses", "leur", "leurs"}
    ),
}
_STEMMERS: Final[dict[TextLang, Callable[[str], str]]] = {"en": stem_en, "fr": stem_fr}
_LIGHT: Final[dict[TextLang, Callable[[str], str]]] = {"en": light_en, "fr": light_fr}
_ADJECTIVE_ENDINGS: Final = ("ic", "e", "ique")
_NOUN_ENDINGS: Final = ("ia", "y", "is", "ism", "ity", "ie")
_TINY_NAME = re.compile(r"[a-z]{0,2}|[a-z]{1,3}\d+")
"""Single-word names never matched in lower case: too short, or a letter and digits (S4)."""
_OPTIONAL: Final[dict[TextLang, tuple[str, ...]]] = {
    "en": ("left", "right", "bilateral", "unilateral", "bilaterally", "both"),
    "fr": ("gauche", "droit", "droite", "bilateral", "bilaterale", "unilateral", "unilaterale"),
}
"""Side words a finding may carry in text without its name having them ("rein gauche
ectopique" is "rein ectopique"); names that have them still match them."""
_RECURRENT: Final = "recurrent"
"""The word that "à répétition", "récidivant", "repeated"... are mapped to (word variants)."""
_MIN_PART_CHARS: Final = 6
"""A part of a hyphenated compound ("neuro" in "neuro-ophthalmic") is a finding on its own
only if it has at least this many letters."""

_RANK_LABEL: Final = 3
_RANK_CURATED: Final = 2
_RANK_SYNONYM: Final = 1

CuratedKind = Literal["synonym", "abbreviation", "negated"]


@dataclass(frozen=True, slots=True)
class CuratedName:
    """One row of a curated lexicon file."""

    lang: TextLang
    hpo_id: str
    text: str
    kind: CuratedKind
    source: str
    note: str


def _rows(filename: str) -> Iterator[dict[str, str]]:
    path = resources.files("raredx.phenotype").joinpath("data", filename)
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    yield from csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)


@cache
def curated_names() -> tuple[CuratedName, ...]:
    """Every row of the curated lexicon files (EN then FR), as written."""
    names: list[CuratedName] = []
    for filename in CURATED_FILES:
        lang: TextLang = "fr" if filename.endswith("_fr.tsv") else "en"
        for row in _rows(filename):
            kind = row["kind"].strip()
            if kind not in ("synonym", "abbreviation", "negated"):
                raise ValueError(f"{filename}: unknown kind {kind!r} for {row['text']!r}")
            names.append(
                CuratedName(
                    lang,
                    row["hpo_id"].strip(),
                    row["text"].strip(),
                    kind,  # type: ignore[arg-type]
                    row["source"].strip(),
                    (row.get("note") or "").strip(),
                )
            )
    return tuple(names)


@cache
def _word_variants() -> dict[TextLang, dict[str, str]]:
    """Per language, word -> canonical word (both as written)."""
    out: dict[TextLang, dict[str, str]] = {"en": {}, "fr": {}}
    for row in _rows("word_variants.tsv"):
        lang: TextLang = "fr" if row["lang"].strip() == "fr" else "en"
        out[lang][row["word"].strip()] = row["canonical"].strip()
    return out


@cache
def _blocked() -> dict[TextLang, dict[str, frozenset[str]]]:
    """Per language, normalised name -> HPO ids it must not stand for ("*": any)."""
    out: dict[TextLang, dict[str, set[str]]] = {"en": {}, "fr": {}}
    for row in _rows("blocked_names.tsv"):
        lang: TextLang = "fr" if row["lang"].strip() == "fr" else "en"
        out[lang].setdefault(normalize_text(row["text"]), set()).add(row["hpo_id"].strip())
    return {lang: {k: frozenset(v) for k, v in d.items()} for lang, d in out.items()}


def _fold_word(surface: str) -> str:
    """Case-folded, accent-free word without inner spaces or punctuation."""
    if surface.isascii():
        return surface.lower()
    return normalize_text(surface).replace(" ", "")


# term index, ordered word ids, rank, negated (the name says the finding is absent)
Entry = tuple[int, tuple[int, ...], int, bool]


SENTENCE: Final = -3
"""Word id of a sentence end: . ! ? ; (followed by a space) or a line break."""
CLAUSE: Final = -4
"""Word id of a clause break: , : ( ) [ ] { } / | and bullets."""
STOP: Final = -2
"""Word id of a stop word ("of", "the"; "de", "la")."""
UNKNOWN: Final = -1
"""Word id of a word no name contains."""


@dataclass(slots=True)
class Scan:
    """One text cut into tokens: words and the punctuation that breaks phrases. Parallel
    lists, one item per token; `text[starts[k]:ends[k]]` is token k.

    `vid`: word id in the matcher's vocabulary, or UNKNOWN, STOP, SENTENCE, CLAUSE. `folded`:
    the word case-folded without accents (the punctuation itself for breaks). `abbrev`: the
    term a case-sensitive abbreviation names, or -1. `part`: True for a word that is not the
    last part of a hyphenated compound read as separate words.
    """

    starts: list[int]
    ends: list[int]
    folded: list[str]
    vid: list[int]
    hashes: list[int]
    abbrev: list[int]
    part: list[bool]


class LangMatcher:
    """Names of one language compiled into an order-free hash table (see module docstring)."""

    def __init__(self, kb: KnowledgeBase, lang: TextLang) -> None:
        self.lang: TextLang = lang
        self._stem = _STEMMERS[lang]
        self._light = _LIGHT[lang]
        self._memo: dict[str, tuple[str, str] | None] = {}
        self._stop = _STOP[lang]
        self._variants = {
            self._stem(_fold_word(w)): self._stem(_fold_word(c))
            for w, c in _word_variants()[lang].items()
        }
        allowed = _phenotype_terms(kb)
        blocked = _blocked()[lang]
        popularity = np.asarray(kb.term_annotation_count, dtype=np.int64)

        # (term, text, rank, negated) for every usable name
        names: list[tuple[int, str, int, bool]] = []
        abbrevs: dict[str, set[int]] = {}
        curated_abbrevs: dict[str, set[int]] = {}
        if lang == "en":
            per_term: Iterable[tuple[int, list[str], list[str]]] = (
                (t, [kb.term_labels[t]], kb.term_synonyms[t]) for t in range(kb.n_terms)
            )
        else:
            per_term = (
                (t, [kb.term_labels_fr[t]] if kb.term_labels_fr[t] else [], kb.term_synonyms_fr[t])
                for t in range(kb.n_terms)
            )
        for t, labels, synonyms in per_term:
            if not allowed[t]:
                continue
            for rank, texts in ((_RANK_LABEL, labels), (_RANK_SYNONYM, synonyms)):
                for text in texts:
                    if _is_blocked(blocked, text, kb.term_ids[t]):
                        continue
                    if _ABBREVIATION.fullmatch(text.strip()):
                        abbrevs.setdefault(text.strip(), set()).add(t)
                    else:
                        names.append((t, text, rank, False))
        for row in curated_names():
            if row.lang != lang:
                continue
            t = kb.term_index.get(row.hpo_id, -1)
            if t < 0:  # a KB without this term (e.g. the toy KB)
                continue
            if row.kind == "abbreviation":
                curated_abbrevs.setdefault(row.text, set()).add(t)
            else:
                names.append((t, row.text, _RANK_CURATED, row.kind == "negated"))

        # Abbreviations: curated ones win; an HPO abbreviation naming two terms is dropped.
        self.abbrevs: dict[str, int] = {}
        for text, terms in abbrevs.items():
            if len(terms) == 1:
                self.abbrevs[text] = next(iter(terms))
        for text, terms in curated_abbrevs.items():
            self.abbrevs[text] = min(terms)

        vocab: dict[str, int] = {}
        keyed: dict[tuple[int, ...], dict[int, tuple[int, bool]]] = {}
        single_light: dict[int, set[str]] = {}
        for t, text, rank, negated in names:
            for words in self._name_variants(text):
                if len(words) == 1 and _TINY_NAME.fullmatch(words[0][0]):
                    continue
                ids = tuple(vocab.setdefault(w, len(vocab)) for w, _ in words)
                if not ids:
                    continue
                if len(ids) == 1:
                    single_light.setdefault(ids[0], set()).add(words[0][1])
                for_ids = keyed.setdefault(ids, {})
                old = for_ids.get(t)
                if old is None or rank > old[0]:
                    for_ids[t] = (rank, negated)
        rng = np.random.default_rng(20250116)
        self.vocab = vocab
        self._memo.clear()
        for w in _OPTIONAL[lang]:
            vocab.setdefault(self.words(w) or w, len(vocab))
        self.optional: frozenset[int] = frozenset(
            vocab[self.words(w) or w] for w in _OPTIONAL[lang]
        )
        self.recurrent: int = vocab.setdefault(self.words(_RECURRENT) or "", len(vocab))
        self._single_light = {v: frozenset(ls) for v, ls in single_light.items()}
        self._light_cache: dict[str, str] = {}
        self._word_hash: list[int] = [
            int(x) for x in rng.integers(1, 2**62, size=max(len(vocab), 1), dtype=np.int64)
        ]
        table: dict[int, list[Entry]] = {}
        longest = 1
        # the most words of any name holding each word: a window holding a word can stop there
        self._max_len: list[int] = [0] * len(vocab)
        for ids in keyed:
            for v in ids:
                if len(ids) > self._max_len[v]:
                    self._max_len[v] = len(ids)
        # every pair of words found together in a name: a window stops at a word that never
        # appears with its first word (74,000 pairs for English)
        size = len(vocab) + len(_OPTIONAL[lang]) + 1
        pairs: set[int] = set()
        for ids in keyed:
            for a, b in combinations(ids, 2):
                pairs.add(a * size + b if a <= b else b * size + a)
        self._pairs: frozenset[int] = frozenset(pairs)
        self._pair_base = size
        for ids, by_term in keyed.items():
            h = sum(self._word_hash[i] for i in ids)
            bucket = table.setdefault(h, [])
            for t, (rank, negated) in by_term.items():
                bucket.append((t, ids, rank, negated))
            longest = max(longest, len(ids))
        self.max_words = min(longest, _MAX_WORDS)
        self.table: dict[int, tuple[Entry, ...]] = {
            h: _ranked(kb, b, popularity) for h, b in table.items()
        }
        self._punct: dict[str, tuple[str, int, int, int]] = {
            c: (c, SENTENCE if c in ".!?;\n" else CLAUSE, 0, -1) for c in _PUNCTUATION
        }
        self._cache: dict[str, tuple[str, int, int, int]] = dict(self._punct)
        self._ancestors: dict[int, frozenset[int]] = {}
        # the arrays, not the KB: the cache holding this matcher is keyed weakly by the KB
        self._anc_indptr = kb.ancestor_indptr
        self._anc_indices = kb.ancestor_indices

    # ------------------------------------------------------------------ names
    def words(self, folded: str, surface: str = "") -> str | None:
        """Canonical stem of one folded word, or None for a stop word. A capital letter
        alone is never a stop word ("Hémophilie A", "vitamin A")."""
        if folded in self._stop and not (len(surface) == 1 and surface.isupper()):
            return None
        s = self._stem(folded)
        return self._variants.get(s, s)

    def _name_word(self, surface: str) -> tuple[str, str] | None:
        """(canonical stem, light form) of one word of a name, None for a stop word; memoised
        while the matcher is built (names share most of their words)."""
        key = surface if len(surface) == 1 else surface.lower()
        if key in self._memo:
            return self._memo[key]
        folded = _fold_word(surface)
        c = self.words(folded, surface)
        found = (c, self._light(folded)) if c else None
        self._memo[key] = found
        return found

    def _name_variants(self, text: str) -> list[list[tuple[str, str]]]:
        """(canonical stem, light form) of the content words of a name; a name with
        hyphenated compounds also gives the variant with each compound written as one word
        ("pre-auricular" -> "preauricular")."""
        split: list[tuple[str, str]] = []
        joined: list[tuple[str, str]] = []
        compound = False
        for m in _SCAN.finditer(text):
            word = m.group(1)
            if word is None:
                continue
            raw = _HYPHENS.split(word)
            words = [w for r in raw if (w := self._name_word(r)) is not None]
            split.extend(words)
            if len(raw) > 1:
                compound = True
                whole = self._name_word("".join(raw).lower())
                if whole is not None:
                    joined.append(whole)
            else:
                joined.extend(words)
        if compound and joined and joined != split:
            return [split, joined]
        return [split]

    def single_word_ok(self, v: int, folded: str, part: bool) -> bool:
        """May the text word `folded` (word id `v`) stand alone for a one-word name? Only if
        it is that name up to inflection and spelling, or an adjective of a noun name
        ("anemic" for "anemia"): stems alone confuse "ordering" with "order"."""
        if part and len(folded) < _MIN_PART_CHARS:
            return False
        lights = self._single_light.get(v)
        if lights is None:
            return True
        light = self._light_cache.get(folded)
        if light is None:
            light = self._light(folded)
            if len(self._light_cache) < _CACHE_LIMIT:
                self._light_cache[folded] = light
        if light in lights:
            return True
        return folded.endswith(_ADJECTIVE_ENDINGS) and any(
            x.endswith(_NOUN_ENDINGS) for x in lights
        )

    # ------------------------------------------------------------------ text
    def ancestors(self, term: int) -> frozenset[int]:
        """The term's ancestors, itself included (memoised)."""
        found = self._ancestors.get(term)
        if found is None:
            lo, hi = int(self._anc_indptr[term]), int(self._anc_indptr[term + 1])
            found = self._ancestors[term] = frozenset(self._anc_indices[lo:hi].tolist())
        return found

    def clear_cache(self) -> None:
        """Forget the words seen so far (they are cached per spelling, up to 200,000)."""
        self._cache.clear()
        self._cache.update(self._punct)
        self._light_cache.clear()

    def _word_info(self, surface: str) -> tuple[str, int, int, int]:
        """(folded, word id, hash, abbreviation term or -1) of a token, cached."""
        info = self._cache.get(surface) or self._punct.get(surface)
        if info is not None:
            return info
        folded = _fold_word(surface)
        abbrev = self.abbrevs.get(surface, -1)
        if abbrev < 0 and surface.endswith("s") and len(surface) > 2:
            abbrev = self.abbrevs.get(surface[:-1], -1)
        c = self.words(folded, surface) if len(folded) <= _MAX_TOKEN_CHARS else ""
        if c is None:
            info = (folded, STOP, 0, abbrev)
        else:
            v = self.vocab.get(c, UNKNOWN)
            info = (folded[:_MAX_TOKEN_CHARS], v, self._word_hash[v] if v >= 0 else 0, abbrev)
        if len(self._cache) >= _CACHE_LIMIT:
            self.clear_cache()
        self._cache[surface] = info
        return info

    def scan(self, text: str) -> Scan:
        """Cut `text` into tokens. A hyphenated compound is one word when the joined word is
        in the vocabulary ("pre-auricular" is "preauricular"), else its parts."""
        if not text.isascii() and ("\u2010" in text or "\u2011" in text):
            text = text.translate(_DASHES)
        parts = _TOKENS.split(text)  # gap, token, gap, token, ..., gap
        tokens = parts[1::2]
        offsets = list(accumulate(map(len, parts), initial=0))
        infos = list(map(self._cache.get, tokens))
        if None in infos:
            info = self._word_info
            infos = [x if x is not None else info(t) for x, t in zip(infos, tokens, strict=True)]
        starts = offsets[1:-1:2]
        ends = offsets[2::2]
        folded, vid, hashes, abbrev = (
            (list(x) for x in zip(*infos, strict=True)) if infos else ([], [], [], [])
        )
        scan = Scan(starts, ends, folded, vid, hashes, abbrev, [False] * len(tokens))
        if "-" in text:
            self._compounds(text, scan)
        return scan

    def _compounds(self, text: str, scan: Scan) -> None:
        """Join the parts of compounds whose joined word is in the vocabulary; mark the other
        parts but the last (`Scan.part`). Changes `scan` in place, right to left."""
        starts, ends = scan.starts, scan.ends
        # hyphens between two words, as (index of the word after the hyphen)
        joins: list[int] = []
        for hyphen in _HYPHEN.finditer(text):
            k = bisect_left(starts, hyphen.end())
            if 0 < k < len(starts) and starts[k] == hyphen.end() and ends[k - 1] == hyphen.start():
                joins.append(k)
        groups: list[tuple[int, int]] = []
        for k in joins:
            if groups and groups[-1][1] == k - 1:
                groups[-1] = (groups[-1][0], k)
            else:
                groups.append((k - 1, k))
        for first, last in reversed(groups):
            joined = text[starts[first] : ends[last]].replace("-", "")
            f, v, h, a = self._word_info(joined)
            if v < 0:
                for k in range(first, last):
                    scan.part[k] = True
                continue
            span = slice(first, last + 1)
            scan.starts[span] = [starts[first]]
            scan.ends[span] = [ends[last]]
            scan.folded[span] = [f]
            scan.vid[span] = [v]
            scan.hashes[span] = [h]
            scan.abbrev[span] = [a]
            scan.part[span] = [False]

    def candidates(self, scan: Scan) -> list[tuple[int, int, Entry]]:
        """Every (first token, last token, best entry) whose words form a name: runs of
        vocabulary words, stop words skipped, never across punctuation or unknown words."""
        vid = scan.vid
        hashes = scan.hashes
        table = self.table
        n = len(vid)
        max_words = self.max_words
        found: list[tuple[int, int, Entry]] = []
        max_len = self._max_len
        optional = self.optional
        pairs = self._pairs
        base = self._pair_base
        starts = list(compress(range(n), map((0).__le__, vid)))  # vocabulary words
        if optional.isdisjoint(vid):  # the usual case: no side word, a simpler loop
            for i in starts:
                h = 0
                count = 0
                anchor = vid[i]
                limit = max_len[anchor]
                if limit > max_words:
                    limit = max_words
                j = i
                while j < n:
                    v = vid[j]
                    if v < 0:
                        if v != STOP:  # punctuation or an unknown word
                            break
                        j += 1
                        continue
                    if count:
                        pair = anchor * base + v if anchor <= v else v * base + anchor
                        if pair not in pairs:
                            break  # no name holds both words
                    h += hashes[j]
                    count += 1
                    entries = table.get(h)
                    if entries is not None and (
                        count > 1 or self.single_word_ok(v, scan.folded[i], scan.part[i])
                    ):
                        entry = self._pick(entries, [x for x in vid[i : j + 1] if x >= 0])
                        if entry is not None:
                            found.append((i, j, entry))
                    if max_len[v] < limit:
                        limit = max_len[v]
                    if count >= limit:
                        break
                    j += 1
            return found
        for i in starts:
            h = 0
            h_skip = 0  # the same window without side words
            count = 0
            n_side = 0
            anchor = -1  # first word that is not a side word
            limit = max_words
            j = i
            while j < n:
                v = vid[j]
                if v < 0:
                    if v != STOP:  # punctuation or an unknown word
                        break
                    j += 1
                    continue
                if v in optional:
                    n_side += 1
                else:
                    if anchor < 0:
                        anchor = v
                    elif (anchor * base + v if anchor <= v else v * base + anchor) not in pairs:
                        break  # no name holds both words
                    h_skip += hashes[j]
                    if max_len[v] < limit:
                        limit = max_len[v]
                h += hashes[j]
                count += 1
                entries = table.get(h)
                if entries is not None and (
                    count > 1 or self.single_word_ok(v, scan.folded[i], scan.part[i])
                ):
                    entry = self._pick(entries, [x for x in vid[i : j + 1] if x >= 0])
                    if entry is not None:
                        found.append((i, j, entry))
                if n_side and h_skip and v not in optional:
                    entries = table.get(h_skip)
                    if entries is not None:
                        window = [x for x in vid[i : j + 1] if x >= 0 and x not in optional]
                        entry = self._pick(entries, window)
                        if entry is not None and (
                            len(window) > 1 or self.single_word_ok(v, scan.folded[j], False)
                        ):
                            found.append((i, j, (entry[0], entry[1], entry[2] - 10, entry[3])))
                # names holding these words have at most `limit` words besides side words
                if count - n_side >= limit or count >= max_words:
                    break
                j += 1
        return found

    @staticmethod
    def _pick(entries: tuple[Entry, ...], window: list[int]) -> Entry | None:
        ordered = tuple(window)
        key = sorted(ordered)
        fallback: Entry | None = None
        for e in entries:
            if e[1] == ordered:
                return e
            if fallback is None and sorted(e[1]) == key:
                fallback = e
        return fallback


def _ranked(kb: KnowledgeBase, bucket: list[Entry], popularity: np.ndarray) -> tuple[Entry, ...]:
    """Entries sharing one key, best first: labels before curated names before synonyms;
    among synonyms of several terms, one that is an ancestor of all the others (the name does
    not justify the narrower reading: "ear anomalies"); then the term most used in
    annotations (as `parse_terms` decides: "Microcéphalie" is Microcephaly)."""
    ordered = sorted(bucket, key=lambda e: (-e[2], -int(popularity[e[0]]), kb.term_ids[e[0]]))
    out: list[Entry] = []
    for rank in sorted({e[2] for e in ordered}, reverse=True):
        group = [e for e in ordered if e[2] == rank]
        terms = {e[0] for e in group}
        if len(terms) > 1 and rank < _RANK_LABEL:
            for e in group:
                if all(kb.is_ancestor(e[0], t) for t in terms):
                    group = [x for x in group if x[0] == e[0]] + [x for x in group if x[0] != e[0]]
                    break
        out.extend(group)
    return tuple(out)


def _is_blocked(blocked: dict[str, frozenset[str]], text: str, term_id: str) -> bool:
    ids = blocked.get(normalize_text(text))
    return ids is not None and ("*" in ids or term_id in ids)


def _phenotype_terms(kb: KnowledgeBase) -> np.ndarray:
    """Boolean mask of the terms text may name: strict descendants of Phenotypic abnormality
    (not inheritance, frequency, onset, modifiers, or the root)."""
    mask = np.zeros(kb.n_terms, dtype=bool)
    root = kb.term_index.get(PHENOTYPIC_ABNORMALITY)
    if root is None:
        mask[:] = True
        return mask
    mask[kb.descendants(root)] = True
    mask[root] = False
    return mask


_CACHE: weakref.WeakKeyDictionary[KnowledgeBase, dict[TextLang, LangMatcher]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def matcher(kb: KnowledgeBase, lang: TextLang) -> LangMatcher:
    """The matcher of `kb` for `lang`, built on first use and cached while `kb` is alive."""
    with _LOCK:
        per_kb = _CACHE.setdefault(kb, {})
        found = per_kb.get(lang)
        if found is None:
            found = per_kb[lang] = LangMatcher(kb, lang)
        return found
