"""`raredx hpo search|show` through Typer's CliRunner, on the tiny KB built into the home."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from raredx.cli.hpo import app
from raredx.kb import KnowledgeBase

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_no_arguments_prints_help() -> None:
    result = runner.invoke(app, [])
    assert "search" in result.output and "show" in result.output


def test_search_json(tiny_kb_installed: str) -> None:
    code, out, _ = _run("search", "thrombo", "--kb", tiny_kb_installed, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["id"] == "HP:0001873"
    assert set(rows[0]) == {"id", "label", "label_fr", "matched_text", "match_kind", "score"}
    assert rows[0]["match_kind"] == "prefix"


def test_search_words_are_joined_and_tsv(tiny_kb_installed: str) -> None:
    code, out, _ = _run(
        "search",
        "anemie",
        "hemolitique",
        "--kb",
        tiny_kb_installed,
        "-f",
        "tsv",
        "-n",
        "1",
        "--lang",
        "fr",
    )
    assert code == 0
    header, row = out.strip().split("\n")
    assert header.split("\t") == ["id", "label", "label_fr", "matched", "match", "score"]
    assert row.split("\t")[:4] == [
        "HP:0001878",
        "Hemolytic anemia",
        "Anémie hémolytique",
        "Anémie hémolytique",
    ]


def test_search_table_and_no_match(tiny_kb_installed: str) -> None:
    code, out, _ = _run("search", "splenomegaly", "--kb", tiny_kb_installed)
    assert code == 0 and "HP:0001744" in out
    code, out, err = _run("search", "qqqqqq", "--kb", tiny_kb_installed, "-f", "json")
    assert code == 0 and json.loads(out) == []
    assert "no HPO term matches 'qqqqqq'" in err


def test_search_bad_input_exits_2(tiny_kb_installed: str) -> None:
    code, _, err = _run("search", "x" * 500, "--kb", tiny_kb_installed)
    assert code == 2 and "characters long" in err
    code, _, err = _run("search", "x", "--kb", "no-such-kb")
    assert code == 2 and "no-such-kb" in err
    code, _, _ = _run("search", "x", "--limit", "0", "--kb", tiny_kb_installed)
    assert code == 2
    code, _, _ = _run("search", "x", "--lang", "de", "--kb", tiny_kb_installed)
    assert code == 2


def test_show_json_with_warnings(tiny_kb_installed: str) -> None:
    code, out, err = _run(
        "show",
        "HP:0001906",
        "Intellectual disability, mild; splenomegaly",
        "--kb",
        tiny_kb_installed,
        "--format",
        "json",
    )
    assert code == 0
    terms = json.loads(out)
    assert [t["id"] for t in terms] == ["HP:0001873", "HP:0001256", "HP:0001744"]
    first = terms[0]
    assert first["label_fr"] == "Thrombopénie"
    assert first["synonyms"] == ["Low platelet count"]
    assert first["parents"] == [{"id": "HP:0001872", "label": "Abnormality of thrombocytes"}]
    assert first["definition"] == "A reduction in the number of circulating thrombocytes."
    assert first["information_content"] > 0
    assert first["via"] == "alt_id" and first["given"] == "HP:0001906"
    assert "warning: HP:0001906 is an alternative id of HP:0001873" in err


def test_show_table_and_tsv(tiny_kb_installed: str) -> None:
    code, out, _ = _run("show", "thrombopénie", "--kb", tiny_kb_installed)
    assert code == 0
    for text in (
        "HP:0001873 Thrombocytopenia",
        "Thrombopénie",
        "Low platelet count",
        "HP:0001872",
        "nats",
        "A reduction in the number",
    ):
        assert text in out
    code, out, _ = _run("show", "HP:0001744", "--kb", tiny_kb_installed, "-f", "tsv")
    assert code == 0
    header, row = out.rstrip("\n").split("\n")
    fields = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert fields["id"] == "HP:0001744"
    assert fields["synonyms"] == "Enlarged spleen"
    assert fields["parents"] == "HP:0000118"


def test_show_errors_list_every_bad_term(tiny_kb_installed: str) -> None:
    code, out, err = _run(
        "show", "HP:0001873", "nonsense", "HP:123", "Face large", "--kb", tiny_kb_installed
    )
    assert code == 2
    assert out == ""
    assert "unknown or malformed HPO terms" in err
    for item in ("'nonsense'", "'HP:123'", "'Face large'"):
        assert item in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_real_kb_search_and_show(real_kb: KnowledgeBase) -> None:
    code, out, _ = _run("search", "thrombocytopenia", "-f", "json", "--kb", real_kb.version)
    assert code == 0 and json.loads(out)[0]["id"] == "HP:0001873"
    code, out, _ = _run("show", "thrombopénie", "-f", "json", "--kb", real_kb.version)
    assert code == 0 and json.loads(out)[0]["id"] == "HP:0001873"
