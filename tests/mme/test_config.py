"""MME settings files: valid ones load, every problem of a bad one is listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from raredx.errors import InputError
from raredx.mme.config import load_config, new_token, token_digest
from tests.mme.conftest import write_config


def test_a_valid_file_loads(tmp_path: Path) -> None:
    token, digest = new_token()
    path = write_config(
        tmp_path / "mme.toml",
        centre="RDB",
        user="mme",
        peers=[
            {
                "name": "necker",
                "base_url": "https://mme.example/api/",
                "token": "abc",
                "accept_token_sha256": digest,
            },
            {"name": "listen-only", "accept_token_sha256": token_digest("other")},
        ],
    )
    config = load_config(path)
    assert config.node.centre == "RDB" and config.node.min_score == 0.1
    assert config.node.candidate_genes == 5  # default
    necker = config.peer("necker")
    assert necker.base_url == "https://mme.example/api" and necker.queryable
    assert not config.peer("listen-only").queryable
    assert config.peer_for_token(token) is necker
    assert config.peer_for_token("other").name == "listen-only"  # type: ignore[union-attr]
    assert config.peer_for_token("nope") is None and config.peer_for_token("") is None
    assert "abc" not in repr(necker)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "[node]: missing"),
        ("[node]\ncentre = 'A'\n", "node.user: missing"),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='ftp://x'\n",
            "contact_href",
        ),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='mailto:a@b'\n"
            "min_score=2\n",
            "node.min_score",
        ),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='mailto:a@b'\n"
            "max_results=true\n",
            "node.max_results",
        ),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='mailto:a@b'\n"
            "colour='red'\n",
            "node.colour: unknown setting",
        ),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='mailto:a@b'\n"
            "[[peers]]\nname='p'\nbase_url='http://x'\n",
            "base_url and token go together",
        ),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='mailto:a@b'\n"
            "[[peers]]\nname='p'\naccept_token_sha256='XYZ'\n",
            "64 lower-case hex",
        ),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='mailto:a@b'\n"
            "[[peers]]\nname='p'\n[[peers]]\nname='p'\n",
            "peer p: named twice",
        ),
        (
            "[node]\ncentre='A'\nuser='u'\ncontact_name='n'\ncontact_href='mailto:a@b'\n"
            f"[[peers]]\nname='p'\naccept_token_sha256='{'a' * 64}'\n"
            f"[[peers]]\nname='q'\naccept_token_sha256='{'a' * 64}'\n",
            "share one",
        ),
        ("[node\n", "not valid TOML"),
        ("peers = 3\n", "must be an array"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "mme.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert expected in str(caught.value)


def test_missing_binary_and_huge_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_config(tmp_path / "absent.toml")
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(binary)
    huge = tmp_path / "h.toml"
    huge.write_bytes(b"#" * (2 << 20))
    with pytest.raises(InputError, match="too large"):
        load_config(huge)


def test_unknown_peer_named(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "m.toml", centre="A", user="u", peers=[]))
    with pytest.raises(InputError, match="none configured"):
        config.peer("x")
