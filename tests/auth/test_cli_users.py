"""`raredx users ...` on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raredx.api.security import verify_password
from raredx.cli.app import app
from raredx.store import Store, accounts

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    monkeypatch.setenv("RAREDX_DATABASE_URL", url)
    return url


def test_add_list_passwd_token(db: str) -> None:
    added = runner.invoke(
        app,
        ["users", "add", "alice", "--centre", "RDB", "--role", "geneticist", "--password-stdin"],
        input="a good password\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["users", "list", "--format", "json"])
    assert json.loads(listed.stdout) == [
        {"name": "alice", "role": "geneticist", "centre": "RDB", "password": True}
    ]
    changed = runner.invoke(
        app, ["users", "passwd", "alice", "--password-stdin"], input="another good one\n"
    )
    assert changed.exit_code == 0
    made = runner.invoke(app, ["users", "token", "alice", "--label", "ci"])
    assert made.exit_code == 0
    token = made.stdout.strip()
    with Store.open(db) as store:
        user = accounts.user_record(store, "alice")
        assert user is not None and verify_password(user.password_hash, "another good one")
        found = accounts.user_for_token(store, token)
        assert found is not None and found.name == "alice"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["users", "add", "x", "--centre", "C", "--role", "king", "--password-stdin"],
            "long enough pw\n",
            "unknown role",
        ),
        (["users", "add", "x", "--centre", "C", "--password-stdin"], "short\n", "at least"),
        (
            ["users", "add", "longname12", "--centre", "C", "--password-stdin"],
            "longname12\n",
            "user name",
        ),
        (["users", "passwd", "ghost", "--password-stdin"], "long enough pw\n", "ghost"),
        (["users", "token", "ghost", "--label", "x"], "", "ghost"),
    ],
)
def test_bad_input_is_a_clear_error(db: str, args: list[str], stdin: str, message: str) -> None:
    done = runner.invoke(app, args, input=stdin)
    assert done.exit_code == 2
    assert message in done.output
    assert "Traceback" not in done.output
