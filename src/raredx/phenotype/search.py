"""Fast HPO term search in English and French: ids, exact names, prefixes, words and typos.

Every term name (English label and synonyms, French label and synonyms) is normalised once
(`normalize_text`: case-folded, accents stripped, punctuation turned into single spaces) and
indexed three ways:

- names: the sorted normalised names, so exact matches and a query's prefix range are
  bisections;
- words: a sorted word vocabulary whose postings (names containing the word) are stored
  in vocabulary order, so all words starting with a query word form one contiguous slice;
- typos: the vocabulary grouped by first and by second letter, each group ordered by length,
  so a query word is compared (optimal string alignment distance, rapidfuzz, 1 edit for 4-5
  letters, 2 for 6-9, 3 beyond) only with words of nearly its length sharing a letter.

Ranking: id > exact > full-string prefix > all query words as word prefixes (any order) >
fuzzy (typos; a name may lack one word of a query of three or more). Within exact, prefix and
words matches a label beats a synonym, then the more popular term (more annotated diseases),
then the shorter name; fuzzy matches rank by similarity first. Scores are in [0, 1] and
follow that order: id and exact matches in [0.9, 1], prefix [0.7, 0.9), words [0.5, 0.7),
fuzzy [0, 0.5). Each term appears once, with its best-matching name.

>>> from raredx.kb import load_kb
>>> term_search(load_kb()).search("thrombopenie", limit=1)[0].id  # doctest: +SKIP
'HP:0001873'
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
import weakref
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Final, Literal, get_args

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from raredx.errors import InputError
from raredx.kb import KnowledgeBase, TermLookupKind

__all__ = [
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "Lang",
    "MatchKind",
    "NameKind",
    "TermMatch",
    "TermSearch",
    "normalize_text",
    "term_search",
]

Lang = Literal["en", "fr", "any"]
"""Which names to search: English, French, or both."""

MatchKind = Literal["id", "exact", "prefix", "words", "fuzzy"]
"""How a query matched: by id (or id prefix), whole name, name prefix, word prefixes, typos."""

NameKind = Literal["label", "synonym", "label_fr", "synonym_fr"]
"""Which kind of name of a term matched."""

NAME_KINDS: Final[tuple[NameKind, ...]] = ("label", "synonym", "label_fr", "synonym_fr")

MAX_QUERY_CHARS: Final = 200
"""Longest query `search` accepts, in characters (the longest HPO name has ~180)."""

MAX_LIMIT: Final = 1000
"""Most matches one `search` call returns."""

_ID_QUERY = re.compile(r"(?:hp\s*[:_]?\s*)?(\d{1,7})", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_]+")
_TOP_SENTINEL = "\U0010ffff"
_FUZZY_CANDIDATES = 200
_FUZZY_MIN_SIMILARITY = 0.6


_LIGATURES: Final = {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
_LIGATURE = re.compile("[" + "".join(_LIGATURES) + "]")
_COMMON_MARKS: Final = tuple(chr(c) for c in (0x301, 0x300, 0x302, 0x308, 0x327, 0x303, 0x30A))
"""Acute, grave, circumflex, diaeresis, cedilla, tilde, ring: removed in bulk."""
_ASCII_WORD_BYTES = bytes(
    c if (chr(c).isascii() and chr(c).isalnum()) or c == 10 else 32 for c in range(256)
)


def _fold(text: str) -> str:
    """Case-folded `text` without diacritics: NFKD, combining marks dropped, ligatures split."""
    s = unicodedata.normalize("NFKD", text).casefold()  # NFKD may make capitals: ℠ -> SM
    s = "".join(c for c in s if not unicodedata.combining(c))
    return _LIGATURE.sub(lambda m: _LIGATURES[m.group()], s)


def normalize_text(text: str) -> str:
    """Case-folded, accent-free text with every run of non-letters/digits as one space.

    Letters of other scripts are kept (Greek, Cyrillic...); `_` counts as punctuation.

    >>> normalize_text("  Thrombopénie, SÉVÈRE! ")
    'thrombopenie severe'
    >>> normalize_text("Œdème")
    'oedeme'
    """
    s = text.casefold()
    if not s.isascii():
        s = _fold(s)
    return " ".join(_TOKEN.findall(s))


def _normalize_many(texts: list[str]) -> list[str]:
    """`[normalize_text(t) for t in texts]`, faster for long lists: texts that decompose
    (NFKD, common accents dropped) to ASCII are lower-cased and split in bulk as bytes."""
    if not texts:
        return []
    lines = "\n".join(texts)
    if lines.count("\n") != len(texts) - 1:
        lines = "\n".join(t.replace("\n", " ") for t in texts)
    if not lines.isascii():
        lines = unicodedata.normalize("NFKD", lines)
        for mark in _COMMON_MARKS:
            lines = lines.replace(mark, "")
    out = lines.split("\n")
    plain = [i for i, line in enumerate(out) if line.isascii()]
    if len(plain) < len(out):  # other marks, ligatures, other scripts: one by one
        for i, line in enumerate(out):
            if not line.isascii():
                out[i] = normalize_text(texts[i])
    if plain:
        folded = "\n".join(out[i] for i in plain).encode("ascii").translate(_ASCII_WORD_BYTES)
        folded = folded.lower()
        while b"  " in folded:
            folded = folded.replace(b"  ", b" ")
        folded = folded.replace(b" \n", b"\n").replace(b"\n ", b"\n").strip(b" ")
        for i, line in zip(plain, folded.decode("ascii").split("\n"), strict=True):
            out[i] = line
    return out


@dataclass(frozen=True, slots=True)
class TermMatch:
    """One search hit. `score` is in [0, 1]; higher is better (see the module docstring)."""

    id: str
    label: str
    label_fr: str | None
    matched_text: str
    match_kind: MatchKind
    score: float


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_Bucket = tuple[list[str], IntArray, IntArray]
"""(words ordered by length, their vocabulary ids, offset of the first word of each length)."""


class TermSearch:
    """Search index over one KB's term names: ~0.5 s to build for the full HPO (70,000
    names), then about 1 ms a query (see benchmarks/hpo_search.py).

    Prefer `term_search(kb)`, which caches one index per loaded KB.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        started = time.perf_counter()
        self._kb_ref = weakref.ref(kb)
        self._term_ids = kb.term_ids
        self._labels = kb.term_labels
        self._labels_fr = kb.term_labels_fr
        n_terms = kb.n_terms

        # Every name, labels before synonyms so that de-duplication keeps the label.
        raw_texts: list[str] = []
        raw_terms: list[int] = []
        raw_kinds: list[int] = []
        labels_fr = [[x] if x else [] for x in kb.term_labels_fr]
        for kind, per_term in enumerate((None, kb.term_synonyms, labels_fr, kb.term_synonyms_fr)):
            if per_term is None:
                raw_texts.extend(kb.term_labels)
                raw_terms.extend(range(n_terms))
                raw_kinds.extend([0] * n_terms)
                continue
            counts = list(map(len, per_term))
            raw_texts.extend(chain.from_iterable(per_term))
            raw_terms.extend(np.repeat(np.arange(n_terms), counts).tolist())
            raw_kinds.extend([kind] * sum(counts))
        raw_norms = _normalize_many(raw_texts)
        # One entry per (term, normalised name, language); the kinds of the dropped duplicates
        # (a French synonym equal to the French label...) are remembered for `exact_names`.
        keys = list(zip(raw_terms, raw_norms, (k >= 2 for k in raw_kinds), strict=True))
        first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
        keep = sorted(i for i in first.values() if raw_norms[i])
        entry_of = dict(zip(keep, range(len(keep)), strict=True))
        self._also: dict[int, list[int]] = {}
        for i in sorted(set(range(len(keys))) - set(keep)):
            j = first[keys[i]]
            if raw_norms[i] and raw_kinds[i] != raw_kinds[j]:
                self._also.setdefault(entry_of[j], []).append(raw_kinds[i])
        texts = [raw_texts[i] for i in keep]
        norms = [raw_norms[i] for i in keep]
        self._texts = texts
        self._norms = norms
        n_names = len(texts)

        heads = [t.split(",", 1)[0] for t in texts if "," in t]
        self.comma_heads: frozenset[str] = frozenset(_normalize_many(heads)) - {""}
        """Normalised text before the first comma of every name that contains commas."""
        self.max_commas: int = max((t.count(",") for t in texts), default=0)
        """Most commas in any one name (0 if none)."""

        self._entry_term = np.asarray([raw_terms[i] for i in keep], dtype=np.int64)
        self._entry_kind = np.asarray([raw_kinds[i] for i in keep], dtype=np.int8)
        self._entry_len = np.fromiter(map(len, norms), dtype=np.float64, count=n_names)
        self._is_label = (self._entry_kind == 0) | (self._entry_kind == 2)
        count = np.asarray(kb.term_disease_count, dtype=np.float64)
        top = float(np.log1p(count.max())) if count.size else 0.0
        popularity = np.log1p(count) / max(top, 1.0)
        self._entry_pop = popularity[self._entry_term]
        self._static = 0.6 * self._is_label + 0.3 * self._entry_pop
        self._lang_ok: dict[str, npt.NDArray[np.bool_] | None] = {
            "en": self._entry_kind < 2,
            "fr": self._entry_kind >= 2,
            "any": None,
        }

        # Prefix and exact index: entries in normalised-name order.
        order = sorted(range(n_names), key=norms.__getitem__)
        self._sorted_norms = [norms[e] for e in order]
        self._sorted_entries = np.asarray(order, dtype=np.int64)

        # Word index: postings of each vocabulary word, stored in vocabulary order.
        flat = " ".join(norms).split(" ")
        vocab = sorted(set(flat))
        position = {w: i for i, w in enumerate(vocab)}
        tok = np.fromiter(map(position.__getitem__, flat), dtype=np.int64, count=len(flat))
        per_entry = np.asarray(list(map(str.count, norms, repeat(" "))), dtype=np.int64) + 1
        ent = np.repeat(np.arange(n_names, dtype=np.int64), per_entry)
        by_word = np.lexsort((ent, tok))
        tok, ent = tok[by_word], ent[by_word]
        distinct = np.ones(tok.size, dtype=bool)
        distinct[1:] = (tok[1:] != tok[:-1]) | (ent[1:] != ent[:-1])
        tok, ent = tok[distinct], ent[distinct]
        self._vocab = vocab
        self._post_ptr = np.searchsorted(tok, np.arange(len(vocab) + 1), side="left")
        self._post_idx = ent

        # Fuzzy index: vocabulary words by first and by second letter, each ordered by length.
        groups: dict[tuple[int, str], list[int]] = {}
        for v in sorted(range(len(vocab)), key=lambda v: len(vocab[v])):  # stable: alphabetical
            word = vocab[v]
            groups.setdefault((0, word[0]), []).append(v)
            if len(word) > 1:
                groups.setdefault((1, word[1]), []).append(v)
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        for bucket_key, ids in groups.items():
            words = [vocab[v] for v in ids]
            lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
            offsets = np.searchsorted(lengths, np.arange(int(lengths[-1]) + 2), side="left")
            self._buckets[bucket_key] = (words, np.asarray(ids, dtype=np.int64), offsets)

        self._sorted_ids = sorted(range(n_terms), key=kb.term_ids.__getitem__)
        self._sorted_id_text = [kb.term_ids[t] for t in self._sorted_ids]
        self.build_seconds: float = time.perf_counter() - started
        """Wall time the index took to build, in seconds."""

    # ------------------------------------------------------------------ exact names
    @property
    def n_names(self) -> int:
        """Number of distinct (term, normalised name, language) entries indexed."""
        return len(self._texts)

    def exact_names(self, text: str) -> list[tuple[int, NameKind, str]]:
        """Every (term index, kind of name, name as written) whose name equals `text` once
        both are normalised; [] if none. A term listing one name twice (e.g. as French label
        and French synonym) appears once per kind."""
        found: list[tuple[int, NameKind, str]] = []
        for e in self._exact_entries(normalize_text(text)).tolist():
            t = int(self._entry_term[e])
            found.append((t, NAME_KINDS[int(self._entry_kind[e])], self._texts[e]))
            found.extend((t, NAME_KINDS[k], self._texts[e]) for k in self._also.get(e, ()))
        return found

    def is_name(self, text: str) -> bool:
        """True if `text` normalises to some term's label or synonym (EN or FR)."""
        return self._exact_entries(normalize_text(text)).size > 0

    def _exact_entries(self, norm: str) -> IntArray:
        lo = bisect_left(self._sorted_norms, norm)
        hi = bisect_right(self._sorted_norms, norm, lo=lo)
        return self._sorted_entries[lo:hi]

    # ------------------------------------------------------------------ search
    def search(self, query: str, limit: int = 10, lang: Lang = "any") -> list[TermMatch]:
        """Up to `limit` (0..MAX_LIMIT) distinct terms best matching `query`, best first.

        `query` is an id or id prefix (`HP:0001873`, `HP:00018`, `0001873`; alternative and
        obsolete ids give their current term; `lang` does not apply) or text in English or
        French (case, accents and punctuation ignored; typos tolerated). Blank text gives [].
        Raises InputError for a query longer than MAX_QUERY_CHARS, a bad `limit` or `lang`.
        """
        problems = []
        if not isinstance(query, str):
            problems.append(f"query must be text, not {type(query).__name__}")
        elif len(query) > MAX_QUERY_CHARS:
            problems.append(f"query is {len(query)} characters long; at most {MAX_QUERY_CHARS}")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_LIMIT:
            problems.append(f"limit must be an integer in 0..{MAX_LIMIT}, not {limit!r}")
        if lang not in get_args(Lang):
            problems.append(f"lang must be one of en, fr, any, not {lang!r}")
        if problems:
            raise InputError("invalid HPO search", problems)
        if limit == 0:
            return []
        id_match = _ID_QUERY.fullmatch(query.strip())
        if id_match:
            return self._search_id(id_match.group(1), limit)
        q = normalize_text(query)
        if not q:
            return []
        tokens = list(dict.fromkeys(q.split()))
        lang_ok = self._lang_ok[lang]
        bands = [self._exact_band(q), self._prefix_band(q), self._words_band(tokens)]
        bands = [(e, s) for e, s in bands if e.size]
        entries, scores = self._merge(bands, lang_ok)
        top = self._top_terms(entries, scores, limit)
        if len(top) < limit:
            fuzzy = self._fuzzy_band(q, tokens, lang_ok)
            if fuzzy[0].size:
                entries, scores = self._merge([(entries, scores), fuzzy], None)
                top = self._top_terms(entries, scores, limit)
        return [self._match(e, s, kind) for e, s, kind in top]

    def _search_id(self, digits: str, limit: int) -> list[TermMatch]:
        curie = "HP:" + digits
        if len(digits) == 7:
            kb = self._kb_ref()
            found = kb.lookup_term(curie) if kb is not None else None
            if found is None:
                return []
            score = 1.0 if found.kind is TermLookupKind.CURRENT else 0.98
            return [self._term_match(found.index, curie, "id", score)]
        lo = bisect_left(self._sorted_id_text, curie)
        hi = bisect_left(self._sorted_id_text, curie + _TOP_SENTINEL)
        score = 0.9 + 0.1 * len(digits) / 7
        return [
            self._term_match(t, self._term_ids[t], "id", score)
            for t in self._sorted_ids[lo : min(hi, lo + limit)]
        ]

    def _within(self, base: float, width: float, w: FloatArray) -> FloatArray:
        """Scores in [base, base + width): `w` is clipped to [0, 0.999]."""
        return base + width * np.clip(w, 0.0, 0.999)

    def _exact_band(self, q: str) -> tuple[IntArray, FloatArray]:
        e = self._exact_entries(q)
        return e, 0.9 + 0.1 * (self._static[e] + 0.1)

    def _prefix_band(self, q: str) -> tuple[IntArray, FloatArray]:
        lo = bisect_left(self._sorted_norms, q)
        hi = bisect_left(self._sorted_norms, q + _TOP_SENTINEL)
        e = self._sorted_entries[lo:hi]
        return e, self._within(0.7, 0.2, self._static[e] + 0.1 * len(q) / self._entry_len[e])

    def _token_range(self, token: str) -> tuple[int, int]:
        """Slice of `_post_idx` holding the names with a word starting with `token`."""
        lo = bisect_left(self._vocab, token)
        hi = bisect_left(self._vocab, token + _TOP_SENTINEL)
        return int(self._post_ptr[lo]), int(self._post_ptr[hi])

    def _words_band(self, tokens: list[str]) -> tuple[IntArray, FloatArray]:
        ranges = sorted((self._token_range(t) for t in tokens), key=lambda r: r[1] - r[0])
        if not ranges or ranges[0][1] == ranges[0][0]:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        # Entries may repeat (two words of one name share the prefix): harmless downstream.
        acc = self._post_idx[ranges[0][0] : ranges[0][1]]
        for lo, hi in ranges[1:]:
            if not acc.size:
                break
            mask = np.zeros(len(self._texts), dtype=bool)
            mask[self._post_idx[lo:hi]] = True
            acc = acc[mask[acc]]
        covered = sum(len(t) for t in tokens) + len(tokens) - 1
        w = self._static[acc] + 0.1 * np.minimum(1.0, covered / self._entry_len[acc])
        return acc, self._within(0.5, 0.2, w)

    def _fuzzy_band(
        self, q: str, tokens: list[str], lang_ok: npt.NDArray[np.bool_] | None
    ) -> tuple[IntArray, FloatArray]:
        n_tokens = len(tokens)
        missing = 1 if n_tokens >= 3 else 0  # query words a name may lack
        per_token: list[tuple[int, list[tuple[int, int, float]]]] = []
        for token in tokens:
            # In a long query a correctly spelled word is taken as meant (saves ~0.3 ms).
            typos = n_tokens <= 2 or not self._is_word(token)
            slices = self._similar_tokens(token, typos=typos)
            per_token.append((sum(stop - start for start, stop, _ in slices), slices))
        # A name lacking at most `missing` query words holds one of any `missing + 1` of
        # them: the rarest ones bound the candidates.
        rarest = sorted(per_token, key=lambda item: item[0])[: missing + 1]
        parts = [self._post_idx[a:b] for _, slices in rarest for a, b, _ in slices]
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cand = np.unique(np.concatenate(parts))
        if lang_ok is not None:
            cand = cand[lang_ok[cand]]
        if not cand.size:
            return cand, np.zeros(0)
        slot = np.full(len(self._texts), -1, dtype=np.int64)
        slot[cand] = np.arange(cand.size)
        total = np.zeros(cand.size)
        matched = np.zeros(cand.size, dtype=np.int64)
        for _, slices in per_token:
            sims = np.zeros(cand.size)
            # Ascending similarity: a name with several close words keeps the best one.
            for start, stop, sim in slices:
                where = slot[self._post_idx[start:stop]]
                sims[where[where >= 0]] = sim
            total += sims
            matched += sims > 0
        ok = (matched >= n_tokens - missing) & (total >= _FUZZY_MIN_SIMILARITY * n_tokens)
        cand, total = cand[ok], total[ok]
        if not cand.size:
            return cand, np.zeros(0)
        coverage = total / n_tokens
        if cand.size > _FUZZY_CANDIDATES:
            best = np.argpartition(-(coverage + 0.01 * self._static[cand]), _FUZZY_CANDIDATES)
            best = best[:_FUZZY_CANDIDATES]
            cand, coverage = cand[best], coverage[best]
        whole = np.fromiter(
            (fuzz.token_sort_ratio(q, self._norms[e]) / 100.0 for e in cand),
            dtype=np.float64,
            count=cand.size,
        )
        similarity = 0.5 * coverage + 0.5 * whole
        w = 0.7 * similarity + 0.2 * self._is_label[cand] + 0.1 * self._entry_pop[cand]
        return cand, self._within(0.0, 0.5, w)

    def _is_word(self, token: str) -> bool:
        i = bisect_left(self._vocab, token)
        return i < len(self._vocab) and self._vocab[i] == token

    def _similar_tokens(self, token: str, typos: bool = True) -> list[tuple[int, int, float]]:
        """(postings start, stop, similarity in (0, 1]) of vocabulary words close to `token`:
        words within a few edits if `typos` (ascending similarity), then the words `token` is
        a prefix of (1.0)."""
        found: list[tuple[int, int, float]] = []
        size = len(token)
        if typos and size >= 4:
            # Words sharing the first or second letter with the token, either way round:
            # covers every typo but one that changes both of the first two letters.
            edits = 1 if size <= 5 else 2 if size <= 9 else 3
            best: dict[int, float] = {}
            for key in sorted({(0, token[0]), (0, token[1]), (1, token[0]), (1, token[1])}):
                bucket = self._buckets.get(key)
                if bucket is None:
                    continue
                words, ids, offsets = bucket
                top = len(offsets) - 1
                start = int(offsets[min(size - edits, top)])
                stop = int(offsets[min(size + edits + 1, top)])
                if start >= stop:
                    continue
                hits = process.extract(
                    token, words[start:stop], scorer=OSA.distance, score_cutoff=edits, limit=None
                )
                for word, dist, pos in hits:
                    if dist:
                        v = int(ids[start + pos])
                        best[v] = 1.0 - float(dist) / max(size, len(word))
            for v, sim in sorted(best.items(), key=lambda item: (item[1], item[0])):
                found.append((int(self._post_ptr[v]), int(self._post_ptr[v + 1]), sim))
        lo, hi = self._token_range(token)
        if hi > lo:
            found.append((lo, hi, 1.0))
        return found

    def _merge(
        self,
        bands: list[tuple[IntArray, FloatArray]],
        lang_ok: npt.NDArray[np.bool_] | None,
    ) -> tuple[IntArray, FloatArray]:
        if not bands:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        entries = np.concatenate([b[0] for b in bands])
        scores = np.concatenate([b[1] for b in bands])
        if lang_ok is not None:
            keep = lang_ok[entries]
            entries, scores = entries[keep], scores[keep]
        return entries, scores

    def _top_terms(
        self, entries: IntArray, scores: FloatArray, limit: int
    ) -> list[tuple[int, float, MatchKind]]:
        """Best entry per term, best `limit` terms: (entry, score, kind), ties by entry."""
        if not entries.size:
            return []
        k = max(limit * 8, 64)
        while True:
            if entries.size > k:
                part = np.argpartition(-scores, k - 1)[:k]
            else:
                part = np.arange(entries.size)
            order = part[np.lexsort((entries[part], -scores[part]))]
            seen: set[int] = set()
            out: list[tuple[int, float, MatchKind]] = []
            for j in order:
                e = int(entries[j])
                t = int(self._entry_term[e])
                if t in seen:
                    continue
                seen.add(t)
                out.append((e, float(scores[j]), _kind_of(float(scores[j]))))
                if len(out) == limit:
                    return out
            if part.size == entries.size:
                return out
            k *= 4

    def _match(self, entry: int, score: float, kind: MatchKind) -> TermMatch:
        return self._term_match(int(self._entry_term[entry]), self._texts[entry], kind, score)

    def _term_match(self, t: int, text: str, kind: MatchKind, score: float) -> TermMatch:
        return TermMatch(
            id=self._term_ids[t],
            label=self._labels[t],
            label_fr=self._labels_fr[t] or None,
            matched_text=text,
            match_kind=kind,
            score=round(min(1.0, max(0.0, score)), 4),
        )


def _kind_of(score: float) -> MatchKind:
    if score >= 0.9:
        return "exact"
    if score >= 0.7:
        return "prefix"
    if score >= 0.5:
        return "words"
    return "fuzzy"


_CACHE: weakref.WeakKeyDictionary[KnowledgeBase, TermSearch] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def term_search(kb: KnowledgeBase) -> TermSearch:
    """The search index of `kb`, built on first use and cached while `kb` is alive."""
    with _CACHE_LOCK:
        index = _CACHE.get(kb)
        if index is None:
            index = _CACHE[kb] = TermSearch(kb)
        return index
