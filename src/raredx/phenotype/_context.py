"""Context of a mention, NegEx/ConText style: negated, about a relative, or hypothetical.

Triggers are word sequences (folded: lower case, no accents; "d'" and "l'" are the words "d"
and "l"), matched on the words `_lexicon.LangMatcher.scan` produced, longest first, so
"no increase" (a pseudo-trigger that negates nothing) wins over "no". Each trigger has a
direction and a reach in words:

- before the finding: negation ("no", "without", "denies", "pas de", "sans", "absence de"),
  relative ("his mother", "family history of", "chez le frère" works both ways), hypothesis
  ("suspected", "rule out", "risk of", "suspicion de", "à éliminer");
- after it: "was ruled out", "absent", "non retrouvé(e)", "cannot be excluded", "in his sister".

A scope ends at the end of the sentence (. ! ? ; or a line break), at a termination word
("but", "however", "mais", "cependant", a new subject such as "the patient" for relatives), or
past the trigger's reach. A comma ends a negation or hypothesis unless it closes a finding of
a list: "no fever, rash or adenopathy" and "pas de fièvre, ni d'adénopathie" are negated as a
whole, "absence de lymphocytes B, neutropénie" negates only the first. A "Family history:"
(or "Antécédents familiaux :") header alone on its line puts the following lines, up to a blank
line or the next "Header:" line, in the family context.

A trigger overlapping a mention is part of the finding, not context ("absent radius",
"absence de lymphocytes B"); a "?" right after a finding makes it uncertain.

A mention's status: family if a relative's context covers it; else excluded if negated (a name
that itself says "absent", such as "afebrile", counts as one negation, and two cancel); else
uncertain if hypothetical; else present.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Final, Literal

from raredx.phenotype._lexicon import CLAUSE, SENTENCE, Scan, TextLang

__all__ = ["MentionStatus", "statuses"]

MentionStatus = Literal["present", "excluded", "family", "uncertain"]
"""What a mention says of the patient: has it, does not have it, a relative has it, maybe."""

_Kind = Literal[
    "neg_pre",
    "neg_post",
    "hyp_pre",
    "hyp_post",
    "fam_pre",
    "fam_post",
    "fam_header",
    "pseudo",
    "term",
    "fam_term",
]

# (kind, reach in words, trigger phrases). "(a|b|)" inside a word spells its variants.
_Spec = tuple[_Kind, int, str]

_EN: Final[tuple[_Spec, ...]] = (
    (
        "pseudo",
        0,
        "no increase; no increased; no significant change; no change; not only; "
        "not necessarily; no further; without difficulty; not certain whether; not certain if; "
        "gram negative; whether or not; no longer than; not cause; not caused; not due to",
    ),
    (
        "hyp_post",
        5,
        "must be ruled out; must be excluded; should be ruled out; "
        "should be excluded; needs to be ruled out; needs to be excluded; to be checked; "
        "requested; pending; was requested; were requested; ordered; was ordered; "
        "cannot be excluded; cannot be ruled out; can not be excluded; "
        "could not be excluded; could not be ruled out; not excluded; not ruled out; "
        "not be excluded; not be ruled out; was suspected; were suspected; is suspected; "
        "are suspected; suspected; is possible; was possible; is likely; is unlikely; unlikely; "
        "was considered; is questionable; to be excluded; to be ruled out; is probable",
    ),
    (
        "hyp_pre",
        8,
        "possible; possibly; probable; probably; suspected; suspicion of; "
        "suspicious for; suspect; suspects; rule out; r / o; to exclude; evaluate for; "
        "evaluation for; concern for; concerning for; risk of; risk for; at risk; may; might; "
        "could; likely; questionable; whether; if; suggestive of; suggesting; screen for; "
        "screening for; workup for; work up for; presumed; presumptive; potential; "
        "differential diagnosis; compatible with",
    ),
    (
        "neg_post",
        5,
        "was absent; were absent; is absent; are absent; absent; not seen; "
        "not found; not observed; not present; not detected; not noted; not identified; "
        "not demonstrated; not evident; was negative; were negative; is negative; ruled out; "
        "was ruled out; were ruled out; was excluded; were excluded; excluded; resolved; "
        "has resolved; had resolved",
    ),
    (
        "neg_pre",
        10,
        "no; not; without; denies; denied; deny; denying; negative for; "
        "free of; absence of; never; none; neither; nor; no evidence of; no sign of; "
        "no signs of; no history of; no symptoms of; did not have; does not have; "
        "do not have; did not develop; no longer; lack of; lacks; lacked; fails to reveal; "
        "failed to reveal; unremarkable for; resolution of; ruled out",
    ),
    ("fam_header", 0, "family history; familial history; family medical history"),
    (
        "pseudo",
        0,
        "(mother|father|parents|mom|dad|mum|grandmother|grandparents) "
        "(reports|reported|report|noticed|notices|noted|notes|states|stated|said|says|"
        "describes|described|observed|brought|mentions|mentioned|is concerned|was concerned|"
        "worried|complains|complained); "
        "according to (his|her|their|the) (mother|father|parents|mom|dad|grandmother); "
        "per (his|her|the) (mother|father|parents|mom|dad); "
        "(maternal|paternal) age; (maternal|paternal) (uniparental|disomy|isodisomy); "
        "(mother|father) to child",
    ),
    (
        "fam_pre",
        15,
        "family history of; familial history of; family history; "
        "mother; father; brother; brothers; sister; sisters; sibling; siblings; sib; sibs; "
        "aunt; aunts; uncle; uncles; cousin; cousins; grandmother; grandfather; grandparent; "
        "grandparents; niece; nephew; twin brother; twin sister; relative; relatives; "
        "family member; family members; maternal; paternal; mom; dad; mum; half brother; "
        "half sister",
    ),
    (
        "fam_post",
        5,
        "in his (mother|father|brother|sister|sibling|siblings|aunt|uncle|cousin|"
        "grandmother|grandfather|family|relatives); "
        "in her (mother|father|brother|sister|sibling|siblings|aunt|uncle|cousin|grandmother|"
        "grandfather|family|relatives); "
        "in the (mother|father|brother|sister|sibling|siblings|family|relatives); "
        "in (a|one|two|several) (relative|relatives|sibling|siblings|family members); "
        "in the family; in family members; in relatives; in siblings",
    ),
    (
        "fam_term",
        0,
        "the patient; our patient; the proband; proband; the child; the boy; "
        "the girl; the infant; the baby; index case; he; she; whereas; while; but; however",
    ),
    (
        "term",
        0,
        "but; however; although; though; except; apart from; aside from; yet; "
        "whereas; while; which; who; whose; nevertheless; still; besides; "
        "has; had; have; presents; presented; developed; develops; showed; shows; exhibited; "
        "exhibits; revealed; reveals; complains of; complained of",
    ),
)

_FR: Final[tuple[_Spec, ...]] = (
    (
        "pseudo",
        0,
        "pas de modification; pas de changement; pas d amelioration; "
        "sans amelioration; sans modification; pas seulement; non seulement; pas toujours; "
        "sans cause; sans etiologie; sans explication; sans difficulte; gram negati(f|ve); "
        "non negligeable; pas uniquement; sans tarder; sans delai",
    ),
    (
        "hyp_post",
        5,
        "doit etre ecarte(|e); doit etre elimine(|e); doit etre exclu(|e); "
        "doivent etre ecarte(s|es); doivent etre elimine(s|es); reste a eliminer; "
        "reste a ecarter; a ecarter; demande(|e|s|es); en cours; a controler; a verifier; "
        "prevu(|e|s|es); a faire; a prevoir; a eliminer; a confirmer; a rechercher; "
        "a discuter; a evoquer; "
        "non exclu(|e|s|es); pas exclu(|e|s|es); ne peut etre exclu(|e|s|es); "
        "ne peut etre elimine(|e|s|es); ne peut pas etre exclu(|e|s|es); "
        "ne peut pas etre elimine(|e|s|es); est suspecte(|e); suspecte(|e|s|es); "
        "possible(|s); probable(|s); douteu(x|se|ses); evoque(|e|s|es); discute(|e|s|es); "
        "est envisage(|e); envisage(|e|s|es)",
    ),
    (
        "hyp_pre",
        8,
        "suspicion de; suspicion d; suspicion; suspect(|e|s|es); "
        "possible(|s); probable(|s); eventuel(|le|s|les); risque de; risque d; a risque de; "
        "a risque d; evoquant; evocat(eur|rice) de; evocat(eur|rice) d; evoque; en faveur de; "
        "en faveur d; hypothese de; hypothese d; hypothese; recherche de; recherche d; "
        "a la recherche de; a la recherche d; pour eliminer; eliminer; pour exclure; exclure; "
        "doute sur; si; pourrait; pourraient; peut; sans doute; probablement; possiblement; "
        "compatible avec; compatibles avec; diagnostic differentiel; surveillance de; "
        "surveiller; craindre; crainte de; crainte d",
    ),
    (
        "neg_post",
        5,
        "absent(|e|s|es); non retrouve(|e|s|es); n a pas ete retrouve(|e|s|es); "
        "n ont pas ete retrouve(|e|s|es); n est pas retrouve(|e); n a pas ete mis en evidence; "
        "non mis(|e|es) en evidence; est negati(f|ve); sont negati(fs|ves); "
        "revenu(|e) negati(f|ve); revenu(s|es) negati(fs|ves); exclu(|e|s|es); elimine(|e|s|es); "
        "ecarte(|e|s|es); non visualise(|e|s|es); non vu(|e|s|es); disparu(|e|s|es); "
        "a disparu; ont disparu; resolu(|e|s|es); n est pas observe(|e); non observe(|e|s|es)",
    ),
    (
        "neg_pre",
        10,
        "pas de; pas d; pas; absence de; absence d; sans; aucun; aucune; ni; "
        "jamais; n a jamais; indemne de; indemne d; disparition de; disparition d; "
        "negatif pour; negative pour; ne retrouve pas; on ne retrouve pas; "
        "ne note pas; on ne note pas; n a plus; ne presente plus",
    ),
    ("neg_pre", 2, "non"),
    (
        "fam_header",
        0,
        "antecedents familiaux; antecedent familial; atcd familiaux; "
        "atcd familiaux; histoire familiale; atcd fam; antecedents fam",
    ),
    (
        "pseudo",
        0,
        "(mere|pere|parents|maman|papa|grand mere) (rapporte|rapportent|signale|"
        "signalent|decrit|decrivent|note|notent|remarque|remarquent|a remarque|ont remarque|"
        "constate|a constate|ont constate|s inquiete|s inquietent|rapporte|raconte|racontent|"
        "explique|expliquent|amene|amenent|consulte|consultent); "
        "selon (la|sa|le|son|les|ses) (mere|pere|parents|maman|papa); "
        "d apres (la|sa|le|son|les|ses) (mere|pere|parents|maman|papa); "
        "amene(|e) par (la|sa|le|son|ses|les) (mere|pere|parents); "
        "age (maternel|paternel); disomie uniparentale (maternelle|paternelle)",
    ),
    (
        "fam_pre",
        15,
        "antecedents familiaux de; antecedents familiaux d; antecedents familiaux; "
        "antecedent familial de; antecedent familial d; antecedent familial; atcd familiaux; "
        "histoire familiale de; histoire familiale d; histoire familiale; "
        "mere; pere; frere; freres; soeur; soeurs; demi frere; demi soeur; cousin; cousine; "
        "cousins; cousines; oncle; oncles; tante; tantes; grand mere; grand pere; "
        "grands parents; fratrie; apparente(|e|s|es); jumeau; jumelle; maternel(|le|s|les); "
        "paternel(|le|s|les); maman; papa; dans la famille; membre de la famille; "
        "membres de la famille",
    ),
    (
        "fam_post",
        5,
        "chez (la|sa|le|son|ses|les|un|une|deux) (mere|pere|frere|freres|soeur|"
        "soeurs|cousin|cousine|cousins|oncle|tante|grand mere|grand pere|fratrie|apparentes|"
        "jumeau|jumelle|demi frere|demi soeur|parents); dans la famille; dans la fratrie; "
        "dans sa famille; dans la famille (maternelle|paternelle); "
        "du cote (maternel|paternel)",
    ),
    (
        "fam_term",
        0,
        "le patient; la patiente; notre patient; notre patiente; l enfant; "
        "le proband; cas index; le garcon; la fille; le nourrisson; il; elle; mais; alors que; "
        "tandis que; quant a",
    ),
    (
        "term",
        0,
        "mais; cependant; toutefois; neanmoins; pourtant; sauf; hormis; excepte; "
        "en revanche; par contre; alors que; tandis que; bien que; qui; dont; "
        "presente; a presente; developpe; a developpe; montre; se plaint de",
    ),
)


def _expand(phrase: str) -> list[tuple[str, ...]]:
    """Word tuples spelled by `phrase`: "(a|b)" alternatives, "x(|e|s)" suffixes."""
    words: list[list[str]] = []
    for word in re.findall(r"[^\s(]*\([^)]*\)[^\s]*|\S+", phrase):
        m = re.fullmatch(r"([^(]*)\(([^)]*)\)(.*)", word)
        if m is None:
            words.append([word])
            continue
        head, options, tail = m.groups()
        words.append([f"{head}{o}{tail}" for o in options.split("|")])
    out: list[tuple[str, ...]] = []
    for combo in itertools.product(*words):
        out.append(tuple(w for part in combo for w in part.split()))
    return out


_Trigger = tuple[tuple[str, ...], _Kind, int]
_Index = dict[str, tuple[tuple[_Trigger, ...], dict[str, tuple[_Trigger, ...]]]]


@cache
def _triggers(lang: TextLang) -> _Index:
    """First word -> (its one-word triggers, second word -> longer triggers, longest first).
    One phrase may be several triggers ("suspected" before and after a finding)."""
    single: dict[str, list[_Trigger]] = {}
    multi: dict[tuple[str, str], list[_Trigger]] = {}
    for kind, reach, phrases in _FR if lang == "fr" else _EN:
        for phrase in phrases.split(";"):
            for words in _expand(phrase.strip()):
                trigger = (words, kind, reach)
                if len(words) == 1:
                    found = single.setdefault(words[0], [])
                elif words:
                    found = multi.setdefault((words[0], words[1]), [])
                else:
                    continue
                if not any(t[0] == words and t[1] == kind for t in found):
                    found.append(trigger)
    index: _Index = {}
    for first in set(single) | {a for a, _ in multi}:
        index[first] = (tuple(single.get(first, ())), {})
    for (a, b), ts in multi.items():
        index[a][1][b] = tuple(sorted(ts, key=lambda t: -len(t[0])))
    return index


_Found = tuple[int, int, _Kind, int]  # first word, last word, kind, reach


def _find_triggers(scan: Scan, lang: TextLang, covered: Sequence[bool]) -> list[_Found]:
    """Triggers in the text, longest first at each word, never overlapping a mention."""
    index = _triggers(lang)
    folded = scan.folded
    n = len(folded)
    found: list[_Found] = []
    next_free = 0
    for i in list(itertools.compress(range(n), map(index.__contains__, folded))):
        if i < next_free or covered[i]:
            continue
        ones, longer = index[folded[i]]
        hits: tuple[_Trigger, ...] = ()
        if longer and i + 1 < n:
            for trigger in longer.get(folded[i + 1], ()):
                size = len(trigger[0])
                if (
                    i + size <= n
                    and tuple(folded[i : i + size]) == trigger[0]
                    and not any(covered[i : i + size])
                ):
                    hits = tuple(t for t in longer[folded[i + 1]] if t[0] == trigger[0])
                    break
        if not hits:
            hits = ones
        for words, kind, reach in hits:
            found.append((i, i + len(words) - 1, kind, reach))
        if hits:
            next_free = i + len(hits[0][0])
    return found


_HEADER_LINE = re.compile(r"[^\W\d_][^:\n]{0,40}:")


def _family_sections(text: str, scan: Scan, headers: Iterable[_Found]) -> list[tuple[int, int]]:
    """Character ranges of the lines under a family-history header alone on its line."""
    sections: list[tuple[int, int]] = []
    for _, last, _, _ in headers:
        line_end = text.find("\n", scan.ends[last])
        if line_end < 0 or text[scan.ends[last] : line_end].strip(" \t:-\u2013") != "":
            continue
        start = line_end + 1
        pos = start
        end = len(text)
        while pos < len(text):
            nxt = text.find("\n", pos)
            line = text[pos : nxt if nxt >= 0 else len(text)]
            if not line.strip() or _HEADER_LINE.match(line.lstrip()):
                end = pos
                break
            if nxt < 0:
                break
            pos = nxt + 1
        sections.append((start, end))
    return sections


_BEFORE: Final = 40
"""Farthest a trigger before a finding can be, in tokens (longest trigger plus reach)."""
_AFTER: Final = 8
"""Farthest a trigger after a finding can be, in tokens."""
_HEADER_REACH: Final = 30
"""Reach of a family-history header followed by findings on its own line."""


def statuses(
    text: str,
    scan: Scan,
    lang: TextLang,
    mentions: Sequence[tuple[int, int, bool]],
) -> list[MentionStatus]:
    """Status of each mention (first word, last word, name-says-absent) of `scan`. Linear in
    the text: each mention looks only at the triggers near it."""
    if not mentions:
        return []
    n = len(scan.folded)
    covered = [False] * n
    for first, last, _ in mentions:
        for k in range(first, last + 1):
            covered[k] = True
    triggers = _find_triggers(scan, lang, covered)
    vid = scan.vid

    def same_sentence(lo: int, hi: int) -> bool:  # lo < hi, at most _BEFORE tokens apart
        return SENTENCE not in vid[lo + 1 : hi]

    terms = [t[0] for t in triggers if t[2] == "term"]
    fam_terms = [t[0] for t in triggers if t[2] == "fam_term"]
    sections = _family_sections(text, scan, (t for t in triggers if t[2] == "fam_header"))
    section_starts = [a for a, _ in sections]
    active = [t for t in triggers if t[2] not in ("pseudo", "term", "fam_term")]
    active_starts = [t[0] for t in active]

    def blocked(lo: int, hi: int, stops: list[int]) -> bool:
        i = bisect_right(stops, lo)
        return i < len(stops) and stops[i] < hi

    ends = {last for _, last, _ in mentions}

    def listed(lo: int, hi: int) -> bool:
        """Does every comma between lo and hi close a finding, as in a list ("no fever,
        cough or rash")? "absence de lymphocytes B, neutropénie" does not negate the second."""
        return all(vid[k] != CLAUSE or k - 1 in ends for k in range(lo + 1, hi))

    out: list[MentionStatus] = []
    for first, last, says_absent in mentions:
        neg = says_absent
        hyp = False
        s = bisect_right(section_starts, scan.starts[first]) - 1
        fam = s >= 0 and scan.starts[first] < sections[s][1]
        negated = False
        lo = bisect_left(active_starts, first - _BEFORE)
        hi = bisect_right(active_starts, last + _AFTER)
        for t_first, t_last, kind, reach in active[lo:hi]:
            family = kind.startswith("fam")
            stops = fam_terms if family else terms
            if kind.endswith("_pre") or kind == "fam_header":
                limit = _HEADER_REACH if kind == "fam_header" else reach
                if (
                    t_last >= first
                    or first - t_last - 1 > limit
                    or not same_sentence(t_last, first)
                    or blocked(t_last, first, stops)
                    or (not family and not listed(t_last, first))
                ):
                    continue
            elif (  # after the mention
                t_first <= last
                or t_first - last - 1 > reach
                or not same_sentence(last, t_first)
                or blocked(last, t_first, stops)
            ):
                continue
            if family:
                fam = True
            elif kind.startswith("neg"):
                if not negated:  # "afebrile" is one negation; "not afebrile" two
                    neg = not neg if says_absent else True
                    negated = True
            else:
                hyp = True
        if not hyp:
            hyp = "?" in text[scan.ends[last] : scan.ends[last] + 3]
        if fam:
            out.append("family")
        elif neg:
            out.append("excluded")
        elif hyp:
            out.append("uncertain")
        else:
            out.append("present")
    return out
