"""A tiny hand-written HPO release for the phenotype-input logic (tree drawn in HP_OBO)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raredx.kb import KnowledgeBase, ReleaseFiles, build_kb
from raredx.kb.compile import compile_kb
from tests.conftest import toy_release_files

TINY_VERSION = "phenotype-tiny"

HP_OBO = """\
format-version: 1.2
data-version: hp/releases/2024-04-04
ontology: hp

! HP:0000001 All
! `-- HP:0000118 Phenotypic abnormality
!     |-- HP:0001871 Abnormality of blood and blood-forming tissues
!     |   |-- HP:0001872 Abnormality of thrombocytes
!     |   |   `-- HP:0001873 Thrombocytopenia        alt_id HP:0001906; "Low platelet count"
!     |   `-- HP:0001903 Anemia
!     |       `-- HP:0001878 Hemolytic anemia
!     |-- HP:0001744 Splenomegaly                    "Enlarged spleen"
!     |-- HP:0001249 Intellectual disability         "Mental retardation"
!     |   `-- HP:0001256 Intellectual disability, mild      (a label with a comma)
!     |-- HP:0040195 Decreased head circumference    FR label "Microcéphalie"
!     |   `-- HP:0000252 Microcephaly                FR label and FR synonym "Microcéphalie"
!     |-- HP:0000283 Broad face                      FR label "Face large" (shared: ambiguous)
!     |-- HP:0100729 Large face                      FR label "Face large" (shared: ambiguous)
!     |-- HP:0000016 Urinary retention               synonym "Bladder retention" (shared)
!     `-- HP:0000019 Urinary hesitancy               synonym "Bladder retention" (shared)
! HP:0009999 is obsolete, replaced by HP:0001903; HP:0009998 is obsolete without replacement.

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001 ! All

[Term]
id: HP:0001871
name: Abnormality of blood and blood-forming tissues
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0001872
name: Abnormality of thrombocytes
is_a: HP:0001871 ! Abnormality of blood and blood-forming tissues

[Term]
id: HP:0001873
name: Thrombocytopenia
alt_id: HP:0001906
def: "A reduction in the number of circulating thrombocytes." [HPO:probinson]
synonym: "Low platelet count" EXACT layperson []
is_a: HP:0001872 ! Abnormality of thrombocytes

[Term]
id: HP:0001903
name: Anemia
is_a: HP:0001871 ! Abnormality of blood and blood-forming tissues

[Term]
id: HP:0001878
name: Hemolytic anemia
is_a: HP:0001903 ! Anemia

[Term]
id: HP:0001744
name: Splenomegaly
synonym: "Enlarged spleen" EXACT layperson []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0001249
name: Intellectual disability
synonym: "Mental retardation" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0001256
name: Intellectual disability, mild
synonym: "Mild mental retardation" EXACT []
is_a: HP:0001249 ! Intellectual disability

[Term]
id: HP:0040195
name: Decreased head circumference
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000252
name: Microcephaly
synonym: "Small head" EXACT layperson []
is_a: HP:0040195 ! Decreased head circumference

[Term]
id: HP:0000283
name: Broad face
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0100729
name: Large face
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000016
name: Urinary retention
synonym: "Bladder retention" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000019
name: Urinary hesitancy
synonym: "Bladder retention" RELATED []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0009999
name: obsolete Low hemoglobin
is_obsolete: true
replaced_by: HP:0001903

[Term]
id: HP:0009998
name: obsolete Odd blood
is_obsolete: true
"""

_HPOA_HEADER = (
    "database_id\tdisease_name\tqualifier\thpo_id\treference\tevidence\tonset\tfrequency\t"
    "sex\tmodifier\taspect\tbiocuration"
)
_HPOA_ROWS = [
    ("OMIM:100001", "Blood disease one", "HP:0001873"),
    ("OMIM:100001", "Blood disease one", "HP:0001744"),
    ("OMIM:100001", "Blood disease one", "HP:0001878"),
    ("OMIM:100002", "Blood disease two", "HP:0001873"),
    ("OMIM:100002", "Blood disease two", "HP:0001249"),
    ("OMIM:100003", "Small head syndrome", "HP:0000252"),
    ("OMIM:100003", "Small head syndrome", "HP:0000283"),
    ("OMIM:100003", "Small head syndrome", "HP:0100729"),
    ("ORPHA:1000", "Bladder disease", "HP:0000016"),
]
PHENOTYPE_HPOA = (
    "#description: tiny annotations\n#version: 2024-04-04\n"
    + _HPOA_HEADER
    + "\n"
    + "".join(
        f"{d}\t{n}\t\t{t}\tPMID:1\tPCS\t\t\t\t\tP\tHPO:test[2024-04-04]\n" for d, n, t in _HPOA_ROWS
    )
)

GENES_TO_PHENOTYPE = """\
ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id
1\tGENEA\tHP:0001873\tThrombocytopenia\t-\tOMIM:100001
2\tGENEB\tHP:0001249\tIntellectual disability\t-\tOMIM:100002
3\tGENEC\tHP:0000252\tMicrocephaly\t-\tOMIM:100003
"""

HGNC = """\
hgnc_id\tsymbol\tname\tlocus_group\tlocus_type\tstatus\tlocation\talias_symbol\tprev_symbol\t\
entrez_id\tensembl_gene_id\tomim_id\torphanet\tmane_select\tdate_modified
HGNC:1\tGENEA\tgene a\tprotein-coding gene\tgene with protein product\tApproved\t1p1\t\t\t1\t\
ENSG01\t\t\t\t2024-01-01
HGNC:2\tGENEB\tgene b\tprotein-coding gene\tgene with protein product\tApproved\t2p2\tGB\t\t2\t\
ENSG02\t\t\t\t2024-01-01
HGNC:3\tGENEC\tgene c\tprotein-coding gene\tgene with protein product\tApproved\t3p3\t\tOLDC\t3\t\
ENSG03\t\t\t\t2024-01-01
"""

_SSSOM_HEADER = (
    "subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\n"
)
MONDO_OMIM = (
    "# mapping_set_version: http://purl.obolibrary.org/obo/mondo/releases/2024-04-01/m.tsv\n"
    + _SSSOM_HEADER
    + "MONDO:0000001\tone\tskos:exactMatch\tOMIM:100001\tone\tsemapv:ManualMappingCuration\n"
)
MONDO_ORPHANET = (
    "# mapping_set_version: http://purl.obolibrary.org/obo/mondo/releases/2024-04-01/o.tsv\n"
    + _SSSOM_HEADER
    + "MONDO:0000002\tbladder\tskos:exactMatch\tOrphanet:1000\tb\tsemapv:ManualMappingCuration\n"
)

_FR_LABELS = [
    ("HP:0001873", "Thrombocytopenia", "Thrombopénie"),
    ("HP:0001903", "Anemia", "Anémie"),
    ("HP:0001878", "Hemolytic anemia", "Anémie hémolytique"),
    ("HP:0001744", "Splenomegaly", "Splénomégalie"),
    ("HP:0001249", "Intellectual disability", "Déficience intellectuelle"),
    ("HP:0001256", "Intellectual disability, mild", "Déficience intellectuelle légère"),
    ("HP:0040195", "Decreased head circumference", "Microcéphalie"),
    ("HP:0000252", "Microcephaly", "Microcéphalie"),
    ("HP:0000283", "Broad face", "Face large"),
    ("HP:0100729", "Large face", "Face large"),
    ("HP:0000016", "Urinary retention", "Rétention urinaire"),
]
FR_BABELON = (
    "subject_id\tsource_language\ttranslation_language\tpredicate_id\tsource_value\t"
    "translation_status\ttranslation_value\n"
    + "".join(f"{i}\ten\tfr\trdfs:label\t{en}\tOFFICIAL\t{fr}\n" for i, en, fr in _FR_LABELS)
)
FR_SYNONYMS = """\
subject_id\ttranslation_value\tcomment\tStatus\tLine number
ID\tAL oboInOwl:hasExactSynonym@fr\t\t\t
HP:0001873\tThrombocytopénie|Plaquettes basses\tx\tOFFICIAL\t1
HP:0000252\tMicrocéphalie\tx\tOFFICIAL\t2
HP:0000016\tRétention d'urine\tx\tOFFICIAL\t3
"""


def write_tiny_release(directory: Path) -> ReleaseFiles:
    """Write the tiny release files into `directory` and return their ReleaseFiles."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "hp.obo": HP_OBO,
        "phenotype.hpoa": PHENOTYPE_HPOA,
        "genes_to_phenotype.txt": GENES_TO_PHENOTYPE,
        "hgnc.tsv": HGNC,
        "mondo_omim.sssom.tsv": MONDO_OMIM,
        "mondo_orphanet.sssom.tsv": MONDO_ORPHANET,
        "hp-fr.babelon.tsv": FR_BABELON,
        "hp-fr.synonyms.tsv": FR_SYNONYMS,
    }
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return toy_release_files(directory)


@pytest.fixture(scope="session")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> ReleaseFiles:
    """The tiny release written to a temporary directory."""
    return write_tiny_release(tmp_path_factory.mktemp("phenotype-tiny"))


@pytest.fixture(scope="session")
def tiny_kb(tiny_files: ReleaseFiles) -> KnowledgeBase:
    """The tiny KB, compiled in memory (~10 ms)."""
    c = compile_kb(tiny_files, version=TINY_VERSION)
    return KnowledgeBase(c.arrays, c.strings, c.manifest)


@pytest.fixture(scope="session")
def tiny_kb_installed(_isolated_home: None, tiny_files: ReleaseFiles) -> str:
    """The tiny KB built into the session's RAREDX_HOME (not active): its version name."""
    return build_kb(tiny_files, version=TINY_VERSION, activate=False)
