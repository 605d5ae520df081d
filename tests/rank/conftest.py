"""A hand-drawn KB for the ranking logic, compiled from tiny release files in a temp folder.

    HP:0000001 All
    |-- HP:0000005 Mode of inheritance
    |   |-- HP:0000006 Autosomal dominant      |-- HP:0000007 Autosomal recessive
    |   `-- HP:0001417 X-linked inheritance
    |       `-- HP:0001419 X-linked recessive inheritance
    |-- HP:0031797 Clinical course
    |   `-- HP:0003674 Onset
    |       |-- HP:0003577 Congenital onset    `-- HP:0003581 Adult onset
    `-- HP:0000118 Phenotypic abnormality
        |-- HP:0001871 Abnormality of blood and blood-forming tissues
        |   |-- HP:0001873 Thrombocytopenia
        |   |   `-- HP:0001973 Autoimmune thrombocytopenia
        |   `-- HP:0001903 Anemia
        |       `-- HP:0001890 Autoimmune hemolytic anemia
        |-- HP:0002715 Abnormality of the immune system
        |   |-- HP:0001744 Splenomegaly
        |   `-- HP:0002716 Lymphadenopathy
        |-- HP:0000707 Abnormality of the nervous system
        |   |-- HP:0001250 Seizure
        |   |   `-- HP:0002069 Bilateral tonic-clonic seizure
        |   `-- HP:0001249 Intellectual disability
        `-- HP:0000478 Abnormality of the eye
            |-- HP:0000505 Visual impairment
            |-- HP:0000518 Cataract
            `-- HP:0000639 Nystagmus

Diseases (genes): ALPS-like OMIM:100001 = ORPHA:9001 via MONDO (GENEA); blood B OMIM:100002
(GENEB); epilepsy OMIM:100003 (GENEC, NOT cataract); X-linked epilepsy OMIM:100004 (GENED);
eye OMIM:100005 (GENEE, congenital) and OMIM:100006 (GENEF, adult onset); broad eye
OMIM:100007 annotated only "Abnormality of the eye" (GENEG) and OMIM:100010, the same but NOT
cataract; seizure-free neuro OMIM:100008 (GENEH, seizures 0/12); pure epilepsy OMIM:100009
(GENEC again); ten filler diseases OMIM:100101.. so the background is not dominated by these.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from raredx.kb import KnowledgeBase, ReleaseFiles
from raredx.kb.compile import compile_kb

TERMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("HP:0000001", "All", ()),
    ("HP:0000005", "Mode of inheritance", ("HP:0000001",)),
    ("HP:0000006", "Autosomal dominant inheritance", ("HP:0000005",)),
    ("HP:0000007", "Autosomal recessive inheritance", ("HP:0000005",)),
    ("HP:0001417", "X-linked inheritance", ("HP:0000005",)),
    ("HP:0001419", "X-linked recessive inheritance", ("HP:0001417",)),
    ("HP:0031797", "Clinical course", ("HP:0000001",)),
    ("HP:0003674", "Onset", ("HP:0031797",)),
    ("HP:0003577", "Congenital onset", ("HP:0003674",)),
    ("HP:0003581", "Adult onset", ("HP:0003674",)),
    ("HP:0000118", "Phenotypic abnormality", ("HP:0000001",)),
    ("HP:0001871", "Abnormality of blood and blood-forming tissues", ("HP:0000118",)),
    ("HP:0001873", "Thrombocytopenia", ("HP:0001871",)),
    ("HP:0001973", "Autoimmune thrombocytopenia", ("HP:0001873",)),
    ("HP:0001903", "Anemia", ("HP:0001871",)),
    ("HP:0001890", "Autoimmune hemolytic anemia", ("HP:0001903",)),
    ("HP:0002715", "Abnormality of the immune system", ("HP:0000118",)),
    ("HP:0001744", "Splenomegaly", ("HP:0002715",)),
    ("HP:0002716", "Lymphadenopathy", ("HP:0002715",)),
    ("HP:0000707", "Abnormality of the nervous system", ("HP:0000118",)),
    ("HP:0001250", "Seizure", ("HP:0000707",)),
    ("HP:0002069", "Bilateral tonic-clonic seizure", ("HP:0001250",)),
    ("HP:0001249", "Intellectual disability", ("HP:0000707",)),
    ("HP:0000478", "Abnormality of the eye", ("HP:0000118",)),
    ("HP:0000505", "Visual impairment", ("HP:0000478",)),
    ("HP:0000518", "Cataract", ("HP:0000478",)),
    ("HP:0000639", "Nystagmus", ("HP:0000478",)),
]

VERY_FREQUENT, FREQUENT, OCCASIONAL = "HP:0040281", "HP:0040282", "HP:0040283"

# (disease id, name, [(qualifier, term, frequency, aspect, onset)])
DISEASES: list[tuple[str, str, list[tuple[str, str, str, str, str]]]] = [
    (
        "OMIM:100001",
        "ALPS-like disease",
        [
            ("", "HP:0001744", VERY_FREQUENT, "P", ""),
            ("", "HP:0002716", "9/10", "P", ""),
            ("", "HP:0001973", FREQUENT, "P", ""),
            ("", "HP:0001890", FREQUENT, "P", ""),
            ("", "HP:0000006", "", "I", ""),
        ],
    ),
    (
        "ORPHA:9001",
        "ALPS-like disease (Orphanet)",
        [
            ("", "HP:0001744", FREQUENT, "P", ""),
            ("", "HP:0002716", VERY_FREQUENT, "P", ""),
        ],
    ),
    (
        "OMIM:100002",
        "Blood disease B",
        [
            ("", "HP:0001873", VERY_FREQUENT, "P", ""),
            ("", "HP:0001903", FREQUENT, "P", ""),
            ("", "HP:0000007", "", "I", ""),
        ],
    ),
    (
        "OMIM:100003",
        "Epilepsy A",
        [
            ("", "HP:0001250", "9/10", "P", ""),
            ("", "HP:0001249", "HP:0040280", "P", ""),
            ("NOT", "HP:0000518", "", "P", ""),
            ("", "HP:0000007", "", "I", ""),
        ],
    ),
    (
        "OMIM:100004",
        "X-linked epilepsy",
        [
            ("", "HP:0001250", "9/10", "P", ""),
            ("", "HP:0001249", VERY_FREQUENT, "P", ""),
            ("", "HP:0001419", "", "I", ""),
        ],
    ),
    (
        "OMIM:100005",
        "Congenital eye disease",
        [
            ("", "HP:0000518", VERY_FREQUENT, "P", ""),
            ("", "HP:0000505", FREQUENT, "P", ""),
            ("", "HP:0003577", "", "C", ""),
        ],
    ),
    (
        "OMIM:100006",
        "Adult eye disease",
        [
            ("", "HP:0000518", VERY_FREQUENT, "P", ""),
            ("", "HP:0000505", FREQUENT, "P", ""),
            ("", "HP:0003581", "", "C", ""),
        ],
    ),
    (
        "OMIM:100007",
        "Broad eye disease",
        [
            ("", "HP:0000478", VERY_FREQUENT, "P", ""),
        ],
    ),
    (
        "OMIM:100008",
        "Neuro disease without seizures",
        [
            ("", "HP:0001249", VERY_FREQUENT, "P", ""),
            ("", "HP:0001250", "0/12", "P", ""),
        ],
    ),
    (
        "OMIM:100009",
        "Pure epilepsy",
        [
            ("", "HP:0001250", "9/10", "P", ""),
        ],
    ),
    (
        "OMIM:100010",
        "Broad eye disease without cataract",
        [
            ("", "HP:0000478", VERY_FREQUENT, "P", ""),
            ("NOT", "HP:0000518", "", "P", ""),
        ],
    ),
]
FILLERS = ("HP:0000639", "HP:0002716", "HP:0001903", "HP:0000505", "HP:0001249")
for k in range(10):
    DISEASES.append(
        (
            f"OMIM:{100101 + k}",
            f"Filler {k}",
            [
                ("", FILLERS[k % len(FILLERS)], OCCASIONAL, "P", ""),
                ("", FILLERS[(k + 2) % len(FILLERS)], FREQUENT, "P", ""),
            ],
        )
    )

GENES = {
    "OMIM:100001": "GENEA",
    "ORPHA:9001": "GENEA",
    "OMIM:100002": "GENEB",
    "OMIM:100003": "GENEC",
    "OMIM:100004": "GENED",
    "OMIM:100005": "GENEE",
    "OMIM:100006": "GENEF",
    "OMIM:100007": "GENEG",
    "OMIM:100008": "GENEH",
    "OMIM:100009": "GENEC",
}

HGNC_HEADER = (
    "hgnc_id\tsymbol\tname\tlocus_group\tlocus_type\tstatus\tlocation\talias_symbol\t"
    "prev_symbol\tentrez_id\tensembl_gene_id\tomim_id\torphanet\tmane_select\tdate_modified"
)


def write_release(directory: Path) -> ReleaseFiles:
    """Write the toy release files into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    obo = ["format-version: 1.2", "data-version: hp/releases/2024-01-01", ""]
    for tid, name, parents in TERMS:
        obo += ["[Term]", f"id: {tid}", f"name: {name}"]
        obo += [f"is_a: {p}" for p in parents]
        obo.append("")
    (directory / "hp.obo").write_text("\n".join(obo), encoding="utf-8")
    hpoa = [
        "#version: 2024-01-01",
        "database_id\tdisease_name\tqualifier\thpo_id\treference\tevidence\tonset\tfrequency"
        "\tsex\tmodifier\taspect\tbiocuration",
    ]
    for did, name, rows in DISEASES:
        for qualifier, term, freq, aspect, onset in rows:
            hpoa.append(
                f"{did}\t{name}\t{qualifier}\t{term}\tPMID:1\tPCS\t{onset}\t{freq}\t\t\t{aspect}"
                "\tHPO:test[2024-01-01]"
            )
    (directory / "phenotype.hpoa").write_text("\n".join(hpoa) + "\n", encoding="utf-8")
    g2p = ["ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id"]
    symbols = sorted(set(GENES.values()))
    for did, sym in GENES.items():
        g2p.append(f"{symbols.index(sym) + 1}\t{sym}\tHP:0000118\tx\t-\t{did}")
    (directory / "genes_to_phenotype.txt").write_text("\n".join(g2p) + "\n", encoding="utf-8")
    hgnc = [HGNC_HEADER]
    for i, sym in enumerate(symbols, start=1):
        hgnc.append(
            f"HGNC:{i}\t{sym}\tgene {sym}\tprotein-coding gene\tgene with protein product\t"
            f"Approved\t1p1\t\t\t{i}\tENSG{i:05d}\t\t\t\t2024-01-01"
        )
    (directory / "hgnc.tsv").write_text("\n".join(hgnc) + "\n", encoding="utf-8")
    head = (
        "# mapping_set_version: http://purl.obolibrary.org/obo/mondo/releases/2024-01-01/x\n"
        "subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\n"
    )
    (directory / "mondo_omim.sssom.tsv").write_text(
        head + "MONDO:0000001\talps\tskos:exactMatch\tOMIM:100001\tx\tsemapv:Manual\n",
        encoding="utf-8",
    )
    (directory / "mondo_orphanet.sssom.tsv").write_text(
        head + "MONDO:0000001\talps\tskos:exactMatch\tOrphanet:9001\tx\tsemapv:Manual\n",
        encoding="utf-8",
    )
    return ReleaseFiles(
        ontology=directory / "hp.obo",
        annotations=directory / "phenotype.hpoa",
        genes=directory / "genes_to_phenotype.txt",
        hgnc=directory / "hgnc.tsv",
        mondo=(directory / "mondo_omim.sssom.tsv", directory / "mondo_orphanet.sssom.tsv"),
        french_labels=None,
        french_synonyms=None,
    )


@pytest.fixture(scope="session")
def rank_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The toy ranking KB, compiled in memory."""
    files = write_release(tmp_path_factory.mktemp("rank-toy"))
    compiled = compile_kb(files, version="rank-toy")
    return KnowledgeBase(compiled.arrays, compiled.strings, compiled.manifest)
