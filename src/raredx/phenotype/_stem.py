"""Light, deterministic word normalisation for concept recognition (English and French).

Both the dictionary names and the text go through the same function, so a stem only has to be
*consistent*, never a real word: "anemia", "anemic", "anaemia" and "anaemic" all give "anem";
"hypoplasia"/"hypoplastic" give "hypoplas"; "scoliosis"/"scoliotic" give "scolio";
"nevi"/"naevus" give "nevus"; "anomalies"/"anomaly"/"abnormality"/"abnormal" map together
through `_lexicon`'s word variants. Input words are already case-folded and accent-free
(`normalize_text`).

>>> [stem_en(w) for w in ("anaemia", "anemic", "hypoplastic", "hypoplasia", "naevi")]
['anem', 'anem', 'hypoplas', 'hypoplas', 'nevus']
>>> [stem_fr(w) for w in ("anemie", "anemique", "elevees", "eleve", "hormonaux", "hormonale")]
['anemi', 'anemi', 'elev', 'elev', 'hormonal', 'hormonal']
"""

from __future__ import annotations

from typing import Final

__all__ = ["light_en", "light_fr", "stem_en", "stem_fr"]

_EN_IRREGULAR: Final[dict[str, str]] = {
    "feet": "foot",
    "teeth": "tooth",
    "children": "child",
    "women": "woman",
    "men": "man",
    "foramina": "foramen",
    "lumina": "lumen",
    "phalanges": "phalanx",
    "ganglia": "ganglion",
    "mitochondria": "mitochondrion",
    "appendices": "appendix",
    "cortices": "cortex",
    "apices": "apex",
    "varices": "varix",
    "testes": "testis",
    "diverticula": "diverticulum",
    "septa": "septum",
    "labia": "labium",
    "crania": "cranium",
    "bacteria": "bacterium",
    "ova": "ovum",
    "data": "datum",
    "criteria": "criterion",
    "epiphyses": "epiphysis",
    "metaphyses": "metaphysis",
    "diaphyses": "diaphysis",
    "apophyses": "apophysis",
    "hypophyses": "hypophysis",
    "bullae": "bulla",
    "pancreas": "pancreas",
    "diabetes": "diabet",
    "always": "always",
    "ras": "ras",
    "is": "is",
    "has": "has",
    "was": "was",
    "this": "this",
    "his": "his",
    "its": "its",
    "does": "does",
    "less": "less",
    "bias": "bias",
    "atlas": "atlas",
    "alias": "alias",
    "canvas": "canvas",
    "whereas": "whereas",
    "lens": "lens",
    "series": "series",
    "species": "species",
    "news": "news",
    "axes": "axis",
    "pubes": "pubis",
}
_EN_KEEP_S: Final = ("ss", "us", "is", "os")
_VOWELS: Final = frozenset("aeiouy")


def _has_vowel(s: str) -> bool:
    return any(c in _VOWELS for c in s)


def _plural_en(w: str) -> str:
    n = len(w)
    if w.endswith("ies") and n > 4:
        return w[:-3] + "y"
    if w.endswith("omata") and n > 6:
        return w[:-2]
    if w.endswith("ae") and n > 4:
        return w[:-1]
    if w.endswith("ii") and n > 4:
        return w[:-1] + "us"
    if w.endswith("i") and n > 3 and w[-2] not in _VOWELS:
        return w[:-1] + "us"
    if w.endswith("oses") and n > 5:
        return w[:-2] + "is"
    if w.endswith(("tases", "physes", "lyses")) and n > 6:
        return w[:-2] + "is"
    if w.endswith(("sses", "ches", "shes", "xes", "zes")) and n > 4:
        return w[:-2]
    if w.endswith("s") and n > 3 and not w.endswith(_EN_KEEP_S):
        return w[:-1]
    return w


def _strip(w: str, suffix: str, replacement: str = "", min_stem: int = 4) -> str | None:
    """`w` with `suffix` replaced, if it ends so and keeps at least `min_stem` letters."""
    if w.endswith(suffix) and len(w) - len(suffix) >= min_stem:
        return w[: len(w) - len(suffix)] + replacement
    return None


# (suffix, replacement, shortest stem kept): first match wins.
_EN_SUFFIXES: Final[tuple[tuple[str, str, int], ...]] = (
    ("ically", "", 3),
    ("ical", "", 3),
    ("ness", "", 3),
    ("ability", "abl", 2),
    ("ibility", "ibl", 2),
    ("bility", "bil", 2),
    ("ity", "", 4),
    ("ism", "", 4),
    ("ations", "", 3),
    ("ation", "", 3),
    ("ction", "ct", 3),
    ("ated", "", 3),
    ("ate", "", 4),
    ("osis", "o", 3),
    ("otic", "o", 3),
    ("itis", "it", 3),
    ("itic", "it", 3),
    ("lysis", "ly", 2),
    ("lytic", "ly", 2),
    ("stasis", "sta", 2),
    ("static", "sta", 2),
    ("psis", "ps", 2),
    ("ptic", "ps", 2),
    ("astic", "as", 3),
    ("ment", "", 4),
    ("ia", "", 4),
    ("ic", "", 4),
    ("y", "", 4),
)


_NOUN_SUFFIXES: Final = ("ity", "ness", "ism", "ment")
"""Suffixes after which a second suffix may go: "spasticity" -> "spastic" -> "spas"."""


_BY_LAST: Final[dict[str, tuple[tuple[str, str, int], ...]]] = {
    last: tuple(rule for rule in _EN_SUFFIXES if rule[0][-1] == last)
    for last in {rule[0][-1] for rule in _EN_SUFFIXES}
}
"""The suffix rules by last letter, in order: a word is compared with a handful only."""


def _suffix_en(w: str, again: bool = True) -> str:
    if w.endswith("fication") and len(w) > 10:
        return w[:-6]
    for suffix, replacement, min_stem in _BY_LAST.get(w[-1:], ()):
        if w.endswith(suffix):
            stripped = _strip(w, suffix, replacement, min_stem)
            if stripped is None:
                return w
            if again and suffix in _NOUN_SUFFIXES:
                return _suffix_en(stripped, again=False)
            return stripped
    return w


def _verb_en(w: str) -> str:
    """-ed / -ing endings (not -eed): "enlarged", "enlarging" -> "enlarg"."""
    for ending in ("ing", "ed"):
        if w.endswith(ending) and not w.endswith("eed"):
            stem = w[: -len(ending)]
            if len(stem) >= 3 and _has_vowel(stem):
                if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                    stem = stem[:-1]
                return stem
    return w


def light_en(word: str) -> str:
    """Inflection and spelling only: plurals, British digraphs (not word-final: haem -> hem,
    oedema -> edema, naevus -> nevus), -our (tumour); no derivation."""
    if len(word) <= 3 or not word.isalpha():
        return word
    w = _EN_IRREGULAR.get(word)
    if w is not None:
        return w
    w = _plural_en(word)
    if w.endswith("our") and len(w) > 5:
        w = w[:-2] + "r"
    if "ae" in w[:-2]:
        w = w[:-2].replace("ae", "e") + w[-2:]
    if "oe" in w[:-2]:
        w = w[:-2].replace("oe", "e") + w[-2:]
    return w


def light_fr(word: str) -> str:
    """French stems are inflectional already: `stem_fr`."""
    return stem_fr(word)


def stem_en(word: str) -> str:
    """Consistent stem of a folded English word (plurals, Latin plurals, British spellings,
    -ia/-ic/-y, -osis/-otic, -ity, -ness, -ation/-ated, -ed/-ing, final -e)."""
    if len(word) <= 3 or not word.isalpha() or word in _EN_IRREGULAR:
        return _EN_IRREGULAR.get(word, word)
    w = light_en(word)
    if w.endswith(("ed", "ing")) and not w.endswith("ated"):
        w = _verb_en(w)
    w = _suffix_en(w)
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


_FR_IRREGULAR: Final[dict[str, str]] = {
    "yeux": "oeil",
    "tous": "tous",
    "toux": "toux",
    "oeil": "oeil",
    "os": "os",
    "dos": "dos",
    "pas": "pas",
    "plus": "plus",
    "sous": "sous",
    "tres": "tres",
    "gras": "gras",
    "bras": "bras",
    "pubis": "pubis",
    "corps": "corps",
    "poids": "poids",
    "pouls": "pouls",
    "fois": "fois",
    "mois": "mois",
    "anus": "anus",
    "iris": "iris",
    "pancreas": "pancreas",
    "thorax": "thorax",
    "larynx": "larynx",
    "pharynx": "pharynx",
    "cortex": "cortex",
    "index": "index",
    "genoux": "genou",
    "cheveux": "cheveu",
    "ongles": "ongl",
}


def stem_fr(word: str) -> str:
    """Consistent stem of a folded French word (plurals -s/-x/-aux, feminine -e/-ee/-elle/-enne/
    -euse/-ive, -ique/-ie)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    w = _FR_IRREGULAR.get(word)
    if w is not None:
        return w
    w = word
    if w.endswith("aux") and len(w) > 4:
        w = w[:-3] + "al"
    elif w.endswith(("s", "x")) and not w.endswith("ss"):
        w = w[:-1]
    if w.endswith("euse") and len(w) > 5:
        w = w[:-4] + "eu"
    elif w.endswith("eux") and len(w) > 4:
        w = w[:-1]
    elif w.endswith("ive") and len(w) > 4:
        w = w[:-2] + "f"
    elif w.endswith(("elle", "enne", "onne")) and len(w) > 5:
        w = w[:-2]
    elif w.endswith("ique") and len(w) > 5:
        w = w[:-3]
    for _ in range(2):
        if w.endswith("e") and len(w) > 3:
            w = w[:-1]
    return w
