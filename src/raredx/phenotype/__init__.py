"""HPO phenotype input: one parser for terms typed or read from files, and term search.

>>> from raredx.kb import load_kb
>>> from raredx.phenotype import parse_terms, term_search
>>> kb = load_kb()  # doctest: +SKIP
>>> parse_terms(kb, "HP:0001906; thrombopénie").ids  # doctest: +SKIP
('HP:0001873',)
>>> term_search(kb).search("splenomgaly", limit=1)[0].id  # doctest: +SKIP
'HP:0001744'
"""

from raredx.phenotype.search import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    Lang,
    MatchKind,
    NameKind,
    TermMatch,
    TermSearch,
    normalize_text,
    term_search,
)
from raredx.phenotype.terms import (
    MAX_ITEM_CHARS,
    MAX_TERMS,
    MAX_TEXT_CHARS,
    ParsedPhenotype,
    ParsedTerms,
    ResolvedTerm,
    Via,
    parse_observed_and_excluded,
    parse_term,
    parse_terms,
    split_term_text,
)
from raredx.phenotype.text import (
    MAX_NOTE_BYTES,
    MAX_NOTE_CHARS,
    ExtractedTerm,
    Extraction,
    Mention,
    MentionStatus,
    NoteLang,
    decode_note,
    detect_language,
    extract_phenotype,
    read_note,
)

__all__ = [
    "MAX_ITEM_CHARS",
    "MAX_LIMIT",
    "MAX_NOTE_BYTES",
    "MAX_NOTE_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "MAX_TEXT_CHARS",
    "ExtractedTerm",
    "Extraction",
    "Lang",
    "MatchKind",
    "Mention",
    "MentionStatus",
    "NameKind",
    "NoteLang",
    "ParsedPhenotype",
    "ParsedTerms",
    "ResolvedTerm",
    "TermMatch",
    "TermSearch",
    "Via",
    "decode_note",
    "detect_language",
    "extract_phenotype",
    "normalize_text",
    "parse_observed_and_excluded",
    "parse_term",
    "parse_terms",
    "read_note",
    "split_term_text",
    "term_search",
]
