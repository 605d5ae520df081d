"""Shared output plumbing for CLI commands: results on stdout, messages on stderr."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from raredx.errors import RaredxError

__all__ = [
    "OutputFormat",
    "err_console",
    "exit_on_error",
    "out_console",
    "print_json",
    "print_rows",
]

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    """How a command prints its result on stdout."""

    table = "table"
    json = "json"
    tsv = "tsv"


def print_json(payload: Any) -> None:
    """Write `payload` as indented JSON to stdout (numpy scalars and dataclasses allowed)."""
    data = orjson.dumps(
        payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    )
    sys.stdout.write(data.decode() + "\n")


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    json_payload: Any = None,
) -> None:
    """Print `rows` as a Rich table, TSV or JSON (`json_payload` if given, else the rows)."""
    if fmt is OutputFormat.json:
        print_json(rows if json_payload is None else json_payload)
    elif fmt is OutputFormat.tsv:
        writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    else:
        table = Table(title=title, show_lines=False)
        for c in columns:
            table.add_column(c)
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        out_console.print(table)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a RaredxError into a clear message on stderr and exit code 2, never a traceback."""
    try:
        yield
    except RaredxError as exc:
        err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False)
        raise typer.Exit(code=2) from None
