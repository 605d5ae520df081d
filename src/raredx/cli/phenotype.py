"""`raredx phenotype`: HPO terms from clinical text (English or French notes, abstracts)."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from raredx.cli._options import FORMAT_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_json, print_rows
from raredx.cli.labs import labs
from raredx.errors import InputError
from raredx.kb import load_kb
from raredx.phenotype import MAX_NOTE_BYTES, decode_note, extract_phenotype, read_note

__all__ = ["app", "extract"]

app = typer.Typer(
    help="HPO terms from clinical text: findings present, excluded (negated), in relatives, "
    "or only suspected.",
    no_args_is_help=True,
)


class ExtractLang(StrEnum):
    """Language of the note."""

    en = "en"
    fr = "fr"
    auto = "auto"


_FILE_ARGUMENT = typer.Argument(
    ..., help="UTF-8 text file of the note or abstract; '-' reads standard input."
)
_LANG_OPTION = typer.Option(
    ExtractLang.auto, "--lang", help="Language of the text (auto: detected from its words)."
)
_NESTED_OPTION = typer.Option(
    False,
    "--nested",
    help='Also report a general term named inside a longer mention ("colitis" in '
    '"ulcerative colitis"), as annotated corpora do.',
)


@app.callback()
def _group() -> None:
    """HPO terms from clinical text (English or French notes, abstracts)."""


def _read(file: str) -> str:
    if file == "-":
        data = sys.stdin.buffer.read(MAX_NOTE_BYTES + 1)
        return decode_note(data, "standard input")
    return read_note(file)


@app.command("extract")
def extract(
    file: str = _FILE_ARGUMENT,
    lang: ExtractLang = _LANG_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
    nested: bool = _NESTED_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """Find the HPO terms a note mentions, with their status and character spans.

    Status: present; excluded ("no lymphadenopathy", "pas d'hépatomégalie");
    family ("his mother has ITP"); uncertain ("suspected HLH").

    JSON lists `terms` (id, label, excluded, status, spans) and `mentions`.
    """
    with exit_on_error():
        text = _read(file)
        kb = load_kb(kb_version)
        if not text.strip():
            raise InputError("cannot extract phenotype terms from this text", ["it is empty"])
        ex = extract_phenotype(kb, text, lang.value, nested=nested)
    if fmt is OutputFormat.json:
        # keys: language, kb_version, terms, mentions
        print_json({"language": ex.language, "kb_version": kb.version, **ex.to_dict()})
        return
    mentions: dict[str, list[str]] = {}
    for m in ex.mentions:
        mentions.setdefault(m.term_id, [])
        if m.text not in mentions[m.term_id]:
            mentions[m.term_id].append(m.text)
    rows = [
        {
            "id": t.id,
            "label": t.label,
            "status": t.status,
            "excluded": "yes" if t.excluded else "no",
            "mentions": " | ".join(mentions.get(t.id, [])),
            "spans": " ".join(f"{a}-{b}" for a, b in t.spans),
        }
        for t in ex.terms
    ]
    columns = ["id", "label", "status", "excluded", "mentions", "spans"]
    title = f"HPO terms in {'standard input' if file == '-' else file} ({ex.language})"
    print_rows(rows, columns, fmt, title=title)
    if not ex.terms:
        err_console.print("no HPO term found", markup=False, highlight=False)


app.command("labs")(labs)
