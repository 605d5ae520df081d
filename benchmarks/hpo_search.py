"""HPO term search speed and quality on the bundled KB.

Builds the search index (timed), then runs ~200 realistic queries: hand-written clinical
queries in English and French (with typos), term labels cut short as an autocomplete would
send them, labels with a typo, French labels typed without accents, and ids. Prints a table
and writes benchmarks/results/hpo_search.json.

    .venv/bin/python benchmarks/hpo_search.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

from raredx.kb import KnowledgeBase, load_kb
from raredx.phenotype import TermSearch, normalize_text, term_search

RESULTS = Path(__file__).resolve().parent / "results" / "hpo_search.json"

# (query, expected term id or None when any sensible answer will do)
HAND_WRITTEN: list[tuple[str, str | None]] = [
    ("thrombocytopenia", "HP:0001873"),
    ("thrombopénie", "HP:0001873"),
    ("THROMBOPENIE", "HP:0001873"),
    ("low platelet count", "HP:0001873"),
    ("platelet low", "HP:0001873"),
    ("thrombocytopenai", "HP:0001873"),
    ("thrombocytopnia", "HP:0001873"),
    ("splenomegaly", "HP:0001744"),
    ("splenomgaly", "HP:0001744"),
    ("splénomégalie", "HP:0001744"),
    ("hepatosplenomegaly", "HP:0001433"),
    ("hépatomégalie", "HP:0002240"),
    ("hepatomegally", "HP:0002240"),
    ("anémie hémolytique", "HP:0001878"),
    ("anemie hemolitique", "HP:0001878"),
    ("hemolytic anemia", "HP:0001878"),
    ("hemolitic anaemia", "HP:0001878"),
    ("seizure", "HP:0001250"),
    ("seizrue", "HP:0001250"),
    ("convulsions fébriles", "HP:0002373"),
    ("febrile seizures", None),
    ("epilepsie", "HP:0001250"),
    ("intellectual disability", "HP:0001249"),
    ("intelectual disabilty", "HP:0001249"),
    ("déficience intellectuelle", "HP:0001249"),
    ("retard mental", "HP:0001249"),
    ("global developmental delay", "HP:0001263"),
    ("developmental delay", None),
    ("retard psychomoteur", None),
    ("short stature", "HP:0004322"),
    ("petite taille", "HP:0004322"),
    ("shrot stature", "HP:0004322"),
    ("microcephaly", "HP:0000252"),
    ("microcéphalie", None),
    ("macrocephaly", "HP:0000256"),
    ("hypotonia", "HP:0001252"),
    ("hypotonie", "HP:0001252"),
    ("hypotonai", "HP:0001252"),
    ("ataxia", "HP:0001251"),
    ("ataxie", "HP:0001251"),
    ("hearing loss", None),
    ("surdité", "HP:0000365"),
    ("cleft palate", "HP:0000175"),
    ("fente palatine", "HP:0000175"),
    ("hypertrophic cardiomyopathy", "HP:0001639"),
    ("cardiomyopathie hypertrophique", "HP:0001639"),
    ("recurrent infections", None),
    ("infections récurrentes", None),
    ("neutropenia", "HP:0001875"),
    ("neutropénie", "HP:0001875"),
    ("lymphadenopathy", "HP:0002716"),
    ("adénopathies", None),
    ("eczema", None),
    ("abnormal hert", None),
    ("failure to thrive", "HP:0001508"),
    ("retard de croissance", None),
    ("scoliosis", "HP:0002650"),
    ("scoliose", "HP:0002650"),
    ("nystagmus", "HP:0000639"),
    ("ptosis", "HP:0000508"),
    ("a", None),
    ("ab", None),
    ("abn", None),
    ("abnormality of the", None),
]

IDS: list[tuple[str, str | None]] = [
    ("HP:0001873", "HP:0001873"),
    ("hp:0001744", "HP:0001744"),
    ("0001250", "HP:0001250"),
    ("HP_0004322", "HP:0004322"),
    ("HP:0001906", "HP:0001873"),
    ("HP:00018", None),
    ("HP:0001", None),
    ("HP:000", None),
    ("HP:00025", None),
    ("HP:0000", None),
]


def _typo(word: str, rng: random.Random) -> str:
    """One random edit: swap, drop, double or replace a letter (not the first)."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(["swap", "drop", "double", "replace"])
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    if edit == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiourstnl") + word[i + 1 :]


def generated_queries(kb: KnowledgeBase, rng: random.Random) -> list[tuple[str, str, str]]:
    """(query, expected id, kind) from random annotated terms' labels."""
    pool = [t for t in range(kb.n_terms) if kb.term_disease_count[t] > 0]
    out: list[tuple[str, str, str]] = []
    for t in rng.sample(pool, 40):
        label = kb.term_labels[t]
        out.append((label[: max(4, len(label) // 2)], kb.term_ids[t], "autocomplete prefix"))
    for t in rng.sample(pool, 40):
        words = kb.term_labels[t].split()
        j = max(range(len(words)), key=lambda k: len(words[k]))
        words[j] = _typo(words[j], rng)
        out.append((" ".join(words), kb.term_ids[t], "label with a typo"))
    with_fr = [t for t in pool if kb.term_labels_fr[t]]
    for t in rng.sample(with_fr, 30):
        out.append((normalize_text(kb.term_labels_fr[t]), kb.term_ids[t], "French, no accents"))
    for t in rng.sample(pool, 20):
        words = kb.term_labels[t].split()
        rng.shuffle(words)
        out.append((" ".join(words).lower(), kb.term_ids[t], "label words shuffled"))
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the queries")
    args = parser.parse_args()

    t0 = time.perf_counter()
    kb = load_kb()
    load_s = time.perf_counter() - t0
    builds = [TermSearch(kb).build_seconds for _ in range(3)]
    search = term_search(kb)

    rng = random.Random(20250116)
    cases: list[tuple[str, str | None, str]] = [(q, e, "hand-written") for q, e in HAND_WRITTEN]
    cases += [(q, e, "id") for q, e in IDS]
    cases += generated_queries(kb, rng)

    for query, _, _ in cases:  # warm-up
        search.search(query)
    per_query: list[float] = []
    rows: list[dict[str, Any]] = []
    for query, expected, kind in cases:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = search.search(query, limit=10)
            times.append((time.perf_counter() - started) * 1000.0)
        ms = statistics.median(times)
        per_query.append(ms)
        ids = [m.id for m in found]
        rank = ids.index(expected) + 1 if expected in ids else None
        rows.append(
            {
                "query": query,
                "category": kind,
                "expected": expected,
                "rank": rank,
                "top": ids[0] if ids else None,
                "top_kind": found[0].match_kind if found else None,
                "ms": round(ms, 3),
            }
        )

    categories = sorted({r["category"] for r in rows})
    summary: dict[str, Any] = {}
    print(
        f"KB {kb.version}: {kb.n_terms} terms, {search.n_names} names; "
        f"KB load {load_s:.2f} s; index build min {min(builds):.3f} s, "
        f"mean {statistics.mean(builds):.3f} s"
    )
    header = (
        f"{'category':<22}{'n':>5}{'mean ms':>9}{'p50':>8}{'p99':>8}{'max':>8}"
        f"{'top1':>7}{'top5':>7}"
    )
    print(header)
    print("-" * len(header))
    for cat in [*categories, "all"]:
        sel = [r for r in rows if cat in ("all", r["category"])]
        ms = [r["ms"] for r in sel]
        judged = [r for r in sel if r["expected"]]
        top1 = sum(1 for r in judged if r["rank"] == 1)
        top5 = sum(1 for r in judged if r["rank"] is not None and r["rank"] <= 5)
        stats = {
            "n": len(sel),
            "mean_ms": round(statistics.mean(ms), 3),
            "p50_ms": round(_percentile(ms, 50), 3),
            "p95_ms": round(_percentile(ms, 95), 3),
            "p99_ms": round(_percentile(ms, 99), 3),
            "max_ms": round(max(ms), 3),
            "judged": len(judged),
            "top1": top1,
            "top5": top5,
        }
        summary[cat] = stats
        share1 = f"{top1 / len(judged):.0%}" if judged else "-"
        share5 = f"{top5 / len(judged):.0%}" if judged else "-"
        print(
            f"{cat:<22}{len(sel):>5}{stats['mean_ms']:>9.3f}{stats['p50_ms']:>8.3f}"
            f"{stats['p99_ms']:>8.3f}{stats['max_ms']:>8.3f}{share1:>7}{share5:>7}"
        )
    misses = [r for r in rows if r["expected"] and (r["rank"] is None or r["rank"] > 5)]
    for r in misses:
        print(f"  not in top 5: {r['query']!r} (expected {r['expected']}, got {r['top']})")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(
        orjson.dumps(
            {
                "kb_version": kb.version,
                "terms": kb.n_terms,
                "names_indexed": search.n_names,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "kb_load_s": round(load_s, 3),
                "index_build_s": [round(b, 3) for b in builds],
                "repeat": args.repeat,
                "summary": summary,
                "queries": rows,
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
