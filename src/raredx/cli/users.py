"""`raredx users ...`: accounts of the web app and REST API (add, list, password, API tokens).

Acts directly on the store named by ``RAREDX_DATABASE_URL`` (else the SQLite file in the
raredx home): whoever can run this command on the server administers it.
"""

from __future__ import annotations

import sys

import typer

from raredx.api.security import check_password_strength, hash_password
from raredx.cli._options import FORMAT_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_rows
from raredx.errors import InputError
from raredx.store import Store, accounts
from raredx.store.models import ROLES

__all__ = ["app"]

app = typer.Typer(help="Accounts of the web app and REST API.", no_args_is_help=True)

STDIN_OPTION = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input."
)


def _read_password(from_stdin: bool, user: str) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password_strength(password, user=user)
    return password


@app.command("add")
def add(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -)."),
    centre: str = typer.Option(..., "--centre", help="Centre code; created if new."),
    role: str = typer.Option("clinician", "--role", help=f"One of {', '.join(ROLES)}."),
    centre_name: str | None = typer.Option(
        None, "--centre-name", help="Full name of a new centre (default: its code)."
    ),
    password_stdin: bool = STDIN_OPTION,
) -> None:
    """Add a user with a password (asked twice, or read with --password-stdin)."""
    with exit_on_error():
        if role not in ROLES:
            raise InputError("unknown role", [f"{role}: use one of {', '.join(ROLES)}"])
        password = _read_password(password_stdin, name)
        with Store.open() as store:
            if centre not in accounts.centre_codes(store):
                store.add_centre(centre, centre_name or centre)
                err_console.print(f"centre {centre} created", highlight=False, markup=False)
            store.add_user(name, role=role, centre=centre)
            accounts.set_password(store, name, hash_password(password), by=name)
    err_console.print(f"user {name} ({role}, {centre}) added", highlight=False, markup=False)


@app.command("list")
def list_users(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List the users: name, role, centre, whether a password is set."""
    with exit_on_error(), Store.open() as store:
        users = accounts.list_users(store)
    rows = [
        {"name": u.name, "role": u.role, "centre": u.centre, "password": bool(u.password_hash)}
        for u in users
    ]
    print_rows(rows, ("name", "role", "centre", "password"), fmt)


@app.command("passwd")
def passwd(
    name: str = typer.Argument(..., help="User name."),
    password_stdin: bool = STDIN_OPTION,
) -> None:
    """Set a user's password (every open session of the user is logged out)."""
    with exit_on_error():
        password = _read_password(password_stdin, name)
        with Store.open() as store:
            accounts.set_password(store, name, hash_password(password), by=name)
    err_console.print(f"password of {name} changed", highlight=False, markup=False)


@app.command("token")
def token(
    name: str = typer.Argument(..., help="User name."),
    label: str = typer.Option(..., "--label", help="What the token is for."),
) -> None:
    """Create an API token for a user and print it (shown once; send it as
    `Authorization: Bearer <token>`)."""
    with exit_on_error(), Store.open() as store:
        _, value = accounts.add_api_token(store, name, label, by=name)
    sys.stdout.write(value + "\n")
