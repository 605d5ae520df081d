"""`raredx hpo`: find HPO terms by name (English or French, typos tolerated) and inspect them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

from raredx.cli._options import FORMAT_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_json, print_rows
from raredx.kb import KnowledgeBase, load_kb
from raredx.phenotype import MAX_LIMIT, parse_terms, split_term_text, term_search

__all__ = ["app", "search", "show"]

app = typer.Typer(
    help="Find HPO terms by id or name (English or French, typos tolerated) and inspect them.",
    no_args_is_help=True,
)

_QUERY_ARGUMENT = typer.Argument(
    ..., help="Words of a term name (any order, typos tolerated), or an id or id prefix."
)
_LIMIT_OPTION = typer.Option(10, "--limit", "-n", min=1, max=MAX_LIMIT, help="Most terms to print.")
_TERMS_ARGUMENT = typer.Argument(
    ...,
    help="HPO ids or exact names (English or French); an argument may hold several, "
    "separated by commas, semicolons or newlines.",
)


class SearchLang(StrEnum):
    """Which names `hpo search` looks at."""

    en = "en"
    fr = "fr"
    any = "any"


_LANG_OPTION = typer.Option(
    SearchLang.any, "--lang", help="Search English names, French names, or both."
)


def _warn(message: str) -> None:
    err_console.print(f"warning: {message}", markup=False, highlight=False)


@app.command("search")
def search(
    text: list[str] = _QUERY_ARGUMENT,
    limit: int = _LIMIT_OPTION,
    lang: SearchLang = _LANG_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """Search HPO terms: exact names first, then name prefixes, words, and near misses."""
    query = " ".join(text)
    with exit_on_error():
        kb = load_kb(kb_version)
        matches = term_search(kb).search(query, limit=limit, lang=lang.value)
    rows = [
        {
            "id": m.id,
            "label": m.label,
            "label_fr": m.label_fr,
            "matched": m.matched_text,
            "match": m.match_kind,
            "score": f"{m.score:.3f}",
        }
        for m in matches
    ]
    columns = ["id", "label", "label_fr", "matched", "match", "score"]
    payload = [
        {
            "id": m.id,
            "label": m.label,
            "label_fr": m.label_fr,
            "matched_text": m.matched_text,
            "match_kind": m.match_kind,
            "score": m.score,
        }
        for m in matches
    ]
    print_rows(rows, columns, fmt, title=f"HPO terms matching {query!r}", json_payload=payload)
    if not matches:
        err_console.print(f"no HPO term matches {query!r}", markup=False, highlight=False)


def _details(kb: KnowledgeBase, index: int, given: str, via: str) -> dict[str, Any]:
    term = kb.term(index)
    return {
        "id": term.id,
        "label": term.label,
        "label_fr": term.label_fr,
        "synonyms": list(term.synonyms),
        "synonyms_fr": list(term.synonyms_fr),
        "alt_ids": list(term.alt_ids),
        "parents": [{"id": p, "label": kb.term(p).label} for p in term.parents],
        "information_content": round(term.information_content, 4),
        "diseases": int(kb.term_disease_count[index]),
        "definition": term.definition,
        "given": given,
        "via": via,
    }


@app.command("show")
def show(
    terms: list[str] = _TERMS_ARGUMENT,
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """Show terms: labels (EN/FR), synonyms, parents, information content and definition."""
    with exit_on_error():
        kb = load_kb(kb_version)
        items = [item for arg in terms for item in split_term_text(arg, kb)]
        parsed = parse_terms(kb, items)
    for warning in parsed.warnings:
        _warn(warning)
    details = [_details(kb, t.index, t.given, t.via) for t in parsed.terms]
    if fmt is OutputFormat.json:
        print_json(details)
        return
    if fmt is OutputFormat.tsv:
        columns = [
            "id",
            "label",
            "label_fr",
            "synonyms",
            "synonyms_fr",
            "parents",
            "information_content",
            "diseases",
            "definition",
        ]
        rows = [
            {
                **d,
                "synonyms": " | ".join(d["synonyms"]),
                "synonyms_fr": " | ".join(d["synonyms_fr"]),
                "parents": " | ".join(p["id"] for p in d["parents"]),
            }
            for d in details
        ]
        print_rows(rows, columns, fmt)
        return
    for d in details:
        fields = [
            ("label", d["label"]),
            ("label (fr)", d["label_fr"] or ""),
            ("synonyms", "; ".join(d["synonyms"])),
            ("synonyms (fr)", "; ".join(d["synonyms_fr"])),
            ("alt ids", ", ".join(d["alt_ids"])),
            ("parents", "; ".join(f"{p['id']} {p['label']}" for p in d["parents"])),
            ("information content", f"{d['information_content']:.3f} nats"),
            ("diseases annotated", str(d["diseases"])),
            ("definition", d["definition"]),
        ]
        rows = [{"field": k, "value": v} for k, v in fields if v]
        print_rows(rows, ["field", "value"], fmt, title=f"{d['id']} {d['label']}")
