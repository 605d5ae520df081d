"""`raredx mme ...`: Matchmaker Exchange tokens, what a case shares, querying peers.

The MME settings are read from ``--config`` (default ``$RAREDX_MME_CONFIG``, else
``mme.toml`` in the raredx home); docs/mme.md describes the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from raredx.cli._options import FORMAT_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_json, print_rows
from raredx.cli.store import USER_OPTION
from raredx.errors import InputError
from raredx.kb import load_kb
from raredx.mme.client import query_peers
from raredx.mme.config import load_config, new_token
from raredx.mme.patient import to_mme_patient
from raredx.store import Store
from raredx.store.store import StoredCase

__all__ = ["CONFIG_OPTION", "app"]

app = typer.Typer(
    help="Matchmaker Exchange: share consented cases with peer nodes and query them.",
    no_args_is_help=True,
)

CONFIG_OPTION = typer.Option(
    None,
    "--config",
    help="MME settings file (default: $RAREDX_MME_CONFIG, else mme.toml in the raredx home).",
)
RESULT_COLUMNS = ("peer", "rank", "score", "patient", "contact", "genes", "features", "error")


@app.command("token")
def token(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Make a new random token for a peer, and the SHA-256 digest this node keeps of it.

    Give the token to the peer (it sends it as X-Auth-Token); put the digest in this node's
    mme.toml as the peer's accept_token_sha256.
    """
    value, digest = new_token()
    print_rows(
        [{"token": value, "accept_token_sha256": digest}],
        ("token", "accept_token_sha256"),
        fmt,
        json_payload={"token": value, "accept_token_sha256": digest},
    )


@app.command("peers")
def peers(config: Path | None = CONFIG_OPTION, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List the configured peers: whether this node queries them and whether they may query
    this node (tokens are never printed)."""
    with exit_on_error():
        settings = load_config(config)
    rows = [
        {
            "peer": p.name,
            "base_url": p.base_url,
            "we_query_them": p.queryable,
            "they_query_us": p.accept_token_sha256 is not None,
        }
        for p in settings.peers
    ]
    print_rows(rows, ("peer", "base_url", "we_query_them", "they_query_us"), fmt)


def _shared_case(store: Store, case_id: str, user: str) -> StoredCase:
    store.case_centre(case_id, user=user)  # unknown case or other centre: InputError
    for stored in store.shared_cases(user=user):
        if stored.id == case_id:
            return stored
    raise InputError(
        "the case is not shared with the Matchmaker Exchange",
        [f"{case_id}: record consent first with `raredx store share {case_id}`"],
    )


@app.command("patient")
def patient(
    case_id: str = typer.Argument(..., help="Id of a stored case shared with the MME."),
    config: Path | None = CONFIG_OPTION,
    kb_version: str | None = KB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Print the MME patient JSON this node sends (and answers with) for CASE_ID: exactly
    what leaves the centre."""
    with exit_on_error():
        settings = load_config(config)
        kb = load_kb(kb_version)
        with Store.open() as store:
            stored = _shared_case(store, case_id, user)
        try:
            print_json(to_mme_patient(stored, kb, settings.node))
        except ValueError as exc:
            raise InputError("nothing to share for this case", [str(exc)]) from None


@app.command("query")
def query(
    case_id: str = typer.Argument(..., help="Id of a stored case shared with the MME."),
    peer: list[str] | None = typer.Option(
        None, "--peer", help="Query only this peer (repeatable; default: every queryable peer)."
    ),
    timeout: float = typer.Option(20.0, "--timeout", min=0.1, help="Seconds per peer."),
    config: Path | None = CONFIG_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Send CASE_ID to the configured MME peers and list the patients they match.

    Exit code 1 when every peer queried failed (each failure is listed), 2 for bad input.
    """
    with exit_on_error():
        settings = load_config(config)
        targets = [settings.peer(n) for n in peer] if peer else list(settings.peers)
        if not any(p.queryable for p in targets):
            raise InputError("no peer to query", ["configure a peer's base_url and token"])
        kb = load_kb(kb_version)
        with Store.open() as store:
            stored = _shared_case(store, case_id, user)
        try:
            sent = to_mme_patient(stored, kb, settings.node)
        except ValueError as exc:
            raise InputError("nothing to share for this case", [str(exc)]) from None
    err_console.print(
        f"querying {sum(p.queryable for p in targets)} peer(s) with {case_id}",
        highlight=False,
        markup=False,
    )
    answers = query_peers(targets, sent, disclaimer=settings.node.disclaimer, timeout=timeout)
    rows: list[dict[str, Any]] = []
    for answer in answers:
        if answer.error is not None:
            rows.append({"peer": answer.peer, "error": answer.error})
            err_console.print(f"{answer.peer}: {answer.error}", highlight=False, markup=False)
        for rank, result in enumerate(answer.results, 1):
            other = result["patient"]
            genes = [
                g["gene"].get("_geneName") or g["gene"]["id"]
                for g in other.get("genomicFeatures", ())
            ]
            contact = other["contact"]
            rows.append(
                {
                    "peer": answer.peer,
                    "rank": rank,
                    "score": f"{result['score']:.3f}",
                    "patient": other["id"],
                    "contact": f"{contact['name']} <{contact['href']}>",
                    "genes": ", ".join(dict.fromkeys(genes)),
                    "features": len(other.get("features", ())),
                }
            )
    payload = {
        "case_id": case_id,
        "sent": sent,
        "answers": [
            {
                "peer": a.peer,
                "error": a.error,
                "disclaimer": a.disclaimer,
                "results": list(a.results),
            }
            for a in answers
        ],
    }
    print_rows(rows, RESULT_COLUMNS, fmt, title=f"MME matches for {case_id}", json_payload=payload)
    if answers and all(a.error is not None for a in answers):
        raise typer.Exit(code=1)
