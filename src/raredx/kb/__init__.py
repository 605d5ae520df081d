"""The knowledge base: HPO terms, diseases, genes and their links, compiled once and cached.

>>> from raredx.kb import load_kb
>>> kb = load_kb()  # doctest: +SKIP
>>> kb.is_ancestor("HP:0001872", "HP:0001873")  # doctest: +SKIP
True
"""

from raredx.kb.compile import FREQUENCY_TERMS, ReleaseFiles, parse_frequency
from raredx.kb.knowledge_base import KnowledgeBase, TermLookup, TermLookupKind, per_kb
from raredx.kb.model import Disease, DiseaseAnnotation, Gene, Sex, SourceInfo, Term
from raredx.kb.store import (
    BUNDLED_HPO_RELEASE,
    BUNDLED_VERSION,
    InstalledKb,
    activate_kb,
    build_kb,
    bundled_release_files,
    find_release_files,
    installed_kbs,
    load_kb,
    raredx_home,
)

__all__ = [
    "BUNDLED_HPO_RELEASE",
    "BUNDLED_VERSION",
    "FREQUENCY_TERMS",
    "Disease",
    "DiseaseAnnotation",
    "Gene",
    "InstalledKb",
    "KnowledgeBase",
    "ReleaseFiles",
    "Sex",
    "SourceInfo",
    "Term",
    "TermLookup",
    "TermLookupKind",
    "activate_kb",
    "build_kb",
    "bundled_release_files",
    "find_release_files",
    "installed_kbs",
    "load_kb",
    "parse_frequency",
    "per_kb",
    "raredx_home",
]
