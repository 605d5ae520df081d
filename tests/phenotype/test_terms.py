"""parse_terms and friends on the tiny hand-written release (tree drawn in conftest.HP_OBO)."""

from __future__ import annotations

import itertools
import time

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype import (
    MAX_TERMS,
    MAX_TEXT_CHARS,
    ParsedTerms,
    ResolvedTerm,
    parse_observed_and_excluded,
    parse_term,
    parse_terms,
    split_term_text,
)


def _problems(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return list(exc.value.problems)


@pytest.mark.parametrize(
    ("item", "via"),
    [
        ("HP:0001873", "id"),
        ("hp:0001873", "id"),
        ("HP_0001873", "id"),
        ("  HP:0001873\t", "id"),
        ("0001873", "id"),
        ("http://purl.obolibrary.org/obo/HP_0001873", "id"),
        ("HP:0001906", "alt_id"),
        ("Thrombocytopenia", "label"),
        ("THROMBOCYTOPENIA", "label"),
        ("low platelet count", "synonym"),
        ("Low  platelet-count.", "synonym"),
        ("thrombopénie", "label_fr"),
        ("THROMBOPENIE", "label_fr"),
        ("Thrombopenie", "label_fr"),
        ("thrombocytopenie", "synonym_fr"),
        ("plaquettes basses", "synonym_fr"),
    ],
)
def test_every_spelling_of_one_term(tiny_kb: KnowledgeBase, item: str, via: str) -> None:
    parsed = parse_terms(tiny_kb, [item])
    assert parsed.ids == ("HP:0001873",)
    (term,) = parsed.terms
    assert term == ResolvedTerm(
        index=tiny_kb.term_index["HP:0001873"],
        id="HP:0001873",
        label="Thrombocytopenia",
        given=item.strip(),
        via=via,  # type: ignore[arg-type]
    )


def test_alt_id_and_obsolete_map_to_replacement_with_warning(tiny_kb: KnowledgeBase) -> None:
    parsed = parse_terms(tiny_kb, ["HP:0001906", "HP:0009999"])
    assert parsed.ids == ("HP:0001873", "HP:0001903")
    assert [t.via for t in parsed.terms] == ["alt_id", "obsolete"]
    assert len(parsed.warnings) == 2
    assert "HP:0001906 is an alternative id of HP:0001873 Thrombocytopenia" in parsed.warnings[0]
    assert "HP:0009999 is obsolete; replaced by HP:0001903 Anemia" in parsed.warnings[1]


def test_current_ids_and_exact_names_give_no_warning(tiny_kb: KnowledgeBase) -> None:
    parsed = parse_terms(tiny_kb, ["HP:0001744", "Hemolytic anemia", "Déficience intellectuelle"])
    assert parsed.ids == ("HP:0001744", "HP:0001878", "HP:0001249")
    assert parsed.warnings == ()
    assert parsed.indices == tuple(tiny_kb.term_index[i] for i in parsed.ids)


def test_every_bad_item_is_reported_in_one_error(tiny_kb: KnowledgeBase) -> None:
    items = [
        "HP:0001873",  # fine
        "HP:0009998",  # obsolete without replacement
        "HP:7777777",  # well formed, unknown
        "HP:1873",  # malformed, padded id exists
        "HP0001744",  # malformed: no separator
        "12345678",  # malformed: 8 digits
        "splenomgaly",  # unknown name (typo)
        "qqqq zzzz",  # unknown name, nothing close
        "Face large",  # ambiguous
        "Bladder retention",  # ambiguous
    ]
    with pytest.raises(InputError) as exc:
        parse_terms(tiny_kb, items)
    assert exc.value.message == "unknown or malformed HPO terms"
    problems = _problems(exc)
    assert len(problems) == len(items) - 1
    text = str(exc.value)
    for item in items[1:]:
        assert repr(item) in text
    assert "HP:0009998 is obsolete in HPO 2024-04-04 and has no replacement" in problems[0]
    assert "HP:7777777 is not a term of HPO 2024-04-04" in problems[1]
    assert "did you mean HP:0001873 (Thrombocytopenia)?" in problems[2]
    assert "did you mean HP:0001744 (Splenomegaly)?" in problems[3]
    assert "malformed" in problems[4] and "did you mean" not in problems[4]
    assert "did you mean HP:0001744 (Splenomegaly)?" in problems[5]
    assert "did you mean" not in problems[6]
    assert "ambiguous" in problems[7]
    assert "HP:0000283 Broad face" in problems[7] and "HP:0100729 Large face" in problems[7]
    assert "HP:0000016 Urinary retention" in problems[8]
    assert "HP:0000019 Urinary hesitancy" in problems[8]


def test_short_bare_numbers_are_malformed_not_guessed(tiny_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError) as exc:
        parse_terms(tiny_kb, ["1873"])
    (problem,) = _problems(exc)
    assert "malformed HPO id" in problem
    assert "did you mean HP:0001873" in problem


def test_shared_french_label_prefers_term_naming_it_twice(tiny_kb: KnowledgeBase) -> None:
    # "Microcéphalie" is the French label of both terms, and also a French synonym of
    # Microcephaly: Microcephaly wins, with a warning naming the other term.
    parsed = parse_terms(tiny_kb, ["microcéphalie"])
    assert parsed.ids == ("HP:0000252",)
    assert parsed.terms[0].via == "label_fr"
    (warning,) = parsed.warnings
    assert "also names HP:0040195 Decreased head circumference" in warning


def test_label_beats_synonym_of_another_term(tiny_kb: KnowledgeBase) -> None:
    # "Rétention urinaire" is only a label: no ambiguity, no warning.
    parsed = parse_terms(tiny_kb, ["retention urinaire", "Rétention d'urine"])
    assert parsed.ids == ("HP:0000016",)
    assert [t.via for t in parsed.terms] == ["label_fr"]


def test_duplicates_collapse_keeping_first(tiny_kb: KnowledgeBase) -> None:
    parsed = parse_terms(
        tiny_kb, ["HP:0001873", "HP:0001873", "thrombopénie", "HP:0001744", "hp:0001873"]
    )
    assert parsed.ids == ("HP:0001873", "HP:0001744")
    assert parsed.terms[0].given == "HP:0001873"
    # The same text (up to case and punctuation) again: silent; another name: a warning.
    (warning,) = parsed.warnings
    assert warning == (
        "'HP:0001873' and 'thrombopénie' both name HP:0001873 Thrombocytopenia; counted once"
    )


def test_annotated_ids(tiny_kb: KnowledgeBase) -> None:
    parsed = parse_terms(
        tiny_kb,
        [
            "HP:0001873 ! Thrombocytopenia",
            "Splenomegaly (HP:0001744)",
            "HP:0001249 Mental retardation",
        ],
    )
    assert parsed.ids == ("HP:0001873", "HP:0001744", "HP:0001249")
    assert parsed.warnings == ()
    mismatch = parse_terms(tiny_kb, ["HP:0001873 ! Splenomegaly"])
    assert mismatch.ids == ("HP:0001873",)
    (warning,) = mismatch.warnings
    assert "'Splenomegaly' is not a name of HP:0001873 Thrombocytopenia" in warning


def test_several_ids_in_one_item_are_refused(tiny_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError) as exc:
        parse_terms(tiny_kb, ["HP:0001873 HP:0001744", "Thrombocytopenia (HP:0001873) HP:0001744"])
    assert all("2 HPO ids in one item" in p for p in _problems(exc))
    # As free text, ids separated by spaces are split apart.
    assert parse_terms(tiny_kb, "HP:0001873 HP:0001744").ids == ("HP:0001873", "HP:0001744")


def test_blank_items_are_ignored(tiny_kb: KnowledgeBase) -> None:
    assert parse_terms(tiny_kb, ["", "  ", "\n"]) == ParsedTerms((), ())
    assert parse_terms(tiny_kb, []) == ParsedTerms((), ())


def test_non_text_items_are_input_errors(tiny_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError) as exc:
        parse_terms(tiny_kb, [1873, None, "HP:0001873"])  # type: ignore[list-item]
    assert _problems(exc) == ["1873: not text", "None: not text"]


def test_a_string_is_split_not_iterated(tiny_kb: KnowledgeBase) -> None:
    parsed = parse_terms(tiny_kb, "HP:0001873, Intellectual disability, mild; splenomegaly")
    assert parsed.ids == ("HP:0001873", "HP:0001256", "HP:0001744")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HP:0001873, HP:0001744; splenomegaly", ["HP:0001873", "HP:0001744", "splenomegaly"]),
        ("a\nb\r\nc\td;;e", ["a", "b", "c", "d", "e"]),
        (" , ,;\n", []),
        (
            "Intellectual disability, mild, HP:0001744",
            ["Intellectual disability, mild", "HP:0001744"],
        ),
        (
            "intellectual  disability ,MILD",
            ["intellectual  disability ,MILD"],  # kept as written
        ),
        ("Intellectual disability, severe", ["Intellectual disability", "severe"]),
        ("HP:0001873 HP:0001744  hp_0001249", ["HP:0001873", "HP:0001744", "hp_0001249"]),
        ("HP:0001873 ! Thrombocytopenia", ["HP:0001873 ! Thrombocytopenia"]),
    ],
)
def test_split_term_text(tiny_kb: KnowledgeBase, text: str, expected: list[str]) -> None:
    assert split_term_text(text, tiny_kb) == expected


def test_split_without_kb_splits_every_comma() -> None:
    assert split_term_text("Intellectual disability, mild; x") == [
        "Intellectual disability",
        "mild",
        "x",
    ]


def test_parse_term_single(tiny_kb: KnowledgeBase) -> None:
    assert parse_term(tiny_kb, "Intellectual disability, mild").id == "HP:0001256"
    with pytest.raises(InputError):
        parse_term(tiny_kb, "   ")
    with pytest.raises(InputError):
        parse_term(tiny_kb, "nope")


def test_observed_and_excluded(tiny_kb: KnowledgeBase) -> None:
    parsed = parse_observed_and_excluded(
        tiny_kb, ["thrombocytopenia", "HP:0001906"], ["splenomegaly", "HP:0001878"]
    )
    assert [t.id for t in parsed.observed] == ["HP:0001873"]
    assert [t.id for t in parsed.excluded] == ["HP:0001744", "HP:0001878"]
    assert len(parsed.warnings) == 2  # alt id, then the duplicate
    assert parsed.warnings[0].startswith("observed: ")
    # Excluding a descendant of an observed term is fine ("anemia, but not hemolytic").
    ok = parse_observed_and_excluded(tiny_kb, ["Anemia"], ["Hemolytic anemia"])
    assert [t.id for t in ok.excluded] == ["HP:0001878"]


def test_contradictions_and_bad_items_reported_together(tiny_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError) as exc:
        parse_observed_and_excluded(
            tiny_kb,
            "thrombocytopenia; Hemolytic anemia; nonsense",
            ["HP:0001906", "Anemia", "HP:1234"],
        )
    problems = _problems(exc)
    assert exc.value.message == "unknown, malformed or contradictory HPO terms"
    assert problems[0].startswith("observed: 'nonsense'")
    assert problems[1].startswith("excluded: 'HP:1234'")
    assert "HP:0001873 Thrombocytopenia is both observed and excluded" in problems
    assert (
        "HP:0001878 Hemolytic anemia is observed, so its ancestor HP:0001903 Anemia cannot "
        "be excluded" in problems
    )
    with pytest.raises(InputError, match="contradictory observed and excluded"):
        parse_observed_and_excluded(tiny_kb, ["HP:0001744"], ["Splenomegaly"])


def test_too_many_items_is_refused_without_reading_them_all(tiny_kb: KnowledgeBase) -> None:
    started = time.perf_counter()
    with pytest.raises(InputError, match="too many HPO terms"):
        parse_terms(tiny_kb, itertools.repeat("HP:0001873"))  # endless
    with pytest.raises(InputError, match="too many HPO terms"):
        parse_terms(tiny_kb, ["HP:0001873"] * 100_000)
    with pytest.raises(InputError, match="too many HPO terms"):
        parse_observed_and_excluded(
            tiny_kb, ["HP:0001873"] * (MAX_TERMS // 2 + 1), ["HP:0001744"] * (MAX_TERMS // 2)
        )
    assert time.perf_counter() - started < 5


def test_many_bad_items_take_bounded_time(tiny_kb: KnowledgeBase) -> None:
    items = [f"bad item {i}" for i in range(MAX_TERMS)]
    started = time.perf_counter()
    with pytest.raises(InputError) as exc:
        parse_terms(tiny_kb, items)
    assert len(exc.value.problems) == MAX_TERMS
    assert time.perf_counter() - started < 10


def test_huge_items_and_text(tiny_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="too long"):
        parse_terms(tiny_kb, ["x" * 1_000_000])
    with pytest.raises(InputError, match="too much HPO text"):
        split_term_text("HP:0001873," * (MAX_TEXT_CHARS // 11 + 1), tiny_kb)
    started = time.perf_counter()
    items = split_term_text("HP:0001873, " * 80_000, tiny_kb)  # ~1 MB
    assert len(items) == 80_000
    assert time.perf_counter() - started < 10
