# ruff: noqa: E501  (a table of UI strings: one line per message reads best)
"""English and French for every string of the web UI: one dictionary, no gettext.

The language is the ``raredx_lang`` cookie set by the EN/FR switch, else the first of en/fr in
the request's Accept-Language, else English. `Translator(lang)(key, **values)` gives the text
(``str.format`` with `values`); a key missing from `MESSAGES` is a bug (KeyError), and the
tests check that every key used by the templates exists in both languages.
"""

from __future__ import annotations

from typing import Final, Literal

from starlette.requests import Request

__all__ = [
    "LANGS",
    "LANG_COOKIE",
    "MESSAGES",
    "Lang",
    "Translator",
    "format_number",
    "format_percent",
    "negotiate",
]

Lang = Literal["en", "fr"]
LANGS: Final[tuple[Lang, ...]] = ("en", "fr")
LANG_COOKIE: Final = "raredx_lang"

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # layout
    "notice": (
        "raredx supports, and never replaces, the clinician's judgement",
        "raredx aide, et ne remplace jamais, le jugement du clinicien",
    ),
    "nav.main": ("Main", "Navigation principale"),
    "nav.cases": ("Cases", "Dossiers"),
    "centre": ("centre", "centre"),
    "logout": ("Log out", "Se déconnecter"),
    "language": ("Language", "Langue"),
    "role.clinician": ("clinician", "clinicien·ne"),
    "role.geneticist": ("geneticist", "généticien·ne"),
    "role.admin": ("administrator", "administrateur·rice"),
    "kb.version": ("Knowledge base", "Base de connaissances"),
    "kb.hpo_release": ("HPO release", "version HPO"),
    "kb.sources": ("Sources", "Sources"),
    "kb.sources_other": (
        "the analysis used another knowledge base than the current one ({current}): "
        "see `raredx kb info` for its sources",
        "l'analyse a utilisé une autre base de connaissances que l'actuelle ({current}) : "
        "voir `raredx kb info` pour ses sources",
    ),
    # login
    "login.title": ("Log in", "Connexion"),
    "login.username": ("User name", "Nom d'utilisateur"),
    "login.password": ("Password", "Mot de passe"),
    "login.submit": ("Log in", "Se connecter"),
    "login.failed": (
        "Wrong user name or password.",
        "Nom d'utilisateur ou mot de passe incorrect.",
    ),
    "login.locked": (
        "Too many failed logins for this user name: wait 15 minutes.",
        "Trop d'échecs de connexion pour ce nom : attendez 15 minutes.",
    ),
    "login.expired": (
        "The login form had expired: please try again.",
        "Le formulaire de connexion avait expiré : veuillez réessayer.",
    ),
    # case list
    "cases.title": ("Cases", "Dossiers"),
    "cases.by_status": ("Cases by status", "Dossiers par statut"),
    "cases.tab.unsolved": ("Unsolved", "Non résolus"),
    "cases.tab.solved": ("Solved", "Résolus"),
    "cases.tab.new": ("New results after reanalysis", "Nouveaux résultats après réanalyse"),
    "cases.tab.all": ("All", "Tous"),
    "cases.latest": ("Latest analysis", "Dernière analyse"),
    "cases.top": ("Top candidate", "Premier candidat"),
    "cases.never": ("not analysed", "non analysé"),
    "cases.n_findings": (
        "{observed} observed, {excluded} excluded",
        "{observed} observés, {excluded} exclus",
    ),
    "cases.new_results": ("new results", "nouveaux résultats"),
    "cases.new_results_hint": (
        "A reanalysis with a newer knowledge base changed the results",
        "Une réanalyse avec une base de connaissances plus récente a changé les résultats",
    ),
    "cases.empty": ("No case here yet.", "Aucun dossier ici pour l'instant."),
    "cases.new": ("New case", "Nouveau dossier"),
    "cases.create": ("Create the case", "Créer le dossier"),
    "cases.import": ("Import a phenopacket", "Importer un phenopacket"),
    "cases.import_file": (
        "Phenopacket file (JSON or JSON Lines)",
        "Fichier phenopacket (JSON ou JSON Lines)",
    ),
    "cases.import_hint": (
        "GA4GH Phenopacket v2, at most {mb} MiB; all cases of the file or none are imported.",
        "GA4GH Phenopacket v2, au plus {mb} Mio ; tous les dossiers du fichier ou aucun sont importés.",
    ),
    "cases.import_submit": ("Import", "Importer"),
    "cases.imported": ("{n} case(s) imported.", "{n} dossier(s) importé(s)."),
    "cases.created": ("Case created.", "Dossier créé."),
    "cases.create_failed": ("The case was not created", "Le dossier n'a pas été créé"),
    "cases.import_failed": ("Nothing was imported", "Rien n'a été importé"),
    # case
    "case.title": ("Case", "Dossier"),
    "case.id": ("Case", "Dossier"),
    "case.patient": ("Patient (pseudonym)", "Patient (pseudonyme)"),
    "case.pseudonym": ("Patient pseudonym", "Pseudonyme du patient"),
    "case.pseudonym_hint": (
        "A pseudonymous id only (letters, digits, . _ -): never the patient's name.",
        "Un identifiant pseudonyme uniquement (lettres, chiffres, . _ -) : jamais le nom du patient.",
    ),
    "case.sex": ("Sex", "Sexe"),
    "case.age": ("Age", "Âge"),
    "case.age_hint": (
        "Years (4, 4.5) or 4y, 18m, 3y6m, 10d.",
        "Années (4 ; 4,5) ou 4y, 18m, 3y6m, 10d.",
    ),
    "case.findings": ("Findings", "Signes"),
    "case.status": ("Status", "Statut"),
    "case.see_results": ("Results", "Résultats"),
    "case.latest_analysis": ("latest analysis {when} ({kb})", "dernière analyse {when} ({kb})"),
    "case.no_analysis": ("No analysis yet.", "Pas encore d'analyse."),
    "case.phenotype": ("Phenotype", "Phénotype"),
    "case.phenotype_hint": (
        "Only these accepted findings count in the diagnosis.",
        "Seuls ces signes acceptés comptent dans le diagnostic.",
    ),
    "case.observed": ("Observed", "Observés"),
    "case.excluded": ("Excluded (examined and absent)", "Exclus (recherchés et absents)"),
    "case.none_observed": ("No observed finding yet.", "Aucun signe observé pour l'instant."),
    "case.none_excluded": ("No excluded finding.", "Aucun signe exclu."),
    "case.add_term": ("Add an HPO term", "Ajouter un terme HPO"),
    "case.state": ("Observed or excluded", "Observé ou exclu"),
    "case.state_observed": ("observed", "observé"),
    "case.state_excluded": ("excluded", "exclu"),
    "case.term_input": (
        "HPO term (name or id, English or French)",
        "Terme HPO (nom ou identifiant, anglais ou français)",
    ),
    "case.term_placeholder": ("e.g. splenomegaly, HP:0001744", "p. ex. splénomégalie, HP:0001744"),
    "case.term_hint": (
        "Type a few letters and pick a term; names in English or French, ids, several separated by ';'.",
        "Tapez quelques lettres et choisissez un terme ; noms en anglais ou en français, identifiants, plusieurs séparés par « ; ».",
    ),
    "case.no_match": ("No matching term", "Aucun terme correspondant"),
    "case.search_failed": (
        "Search unavailable: type the id or the exact name",
        "Recherche indisponible : tapez l'identifiant ou le nom exact",
    ),
    "case.add": ("Add", "Ajouter"),
    "case.terms_added": ("{n} term(s) added.", "{n} terme(s) ajouté(s)."),
    "case.terms_failed": ("The term was not added", "Le terme n'a pas été ajouté"),
    "case.not_found": ("Case not found", "Dossier introuvable"),
    "case.not_found_detail": (
        "There is no such case in the centres you may see.",
        "Ce dossier n'existe pas dans les centres auxquels vous avez accès.",
    ),
    "case.back": ("Back to the cases", "Retour aux dossiers"),
    "sex.MALE": ("male", "masculin"),
    "sex.FEMALE": ("female", "féminin"),
    "sex.OTHER_SEX": ("other", "autre"),
    "sex.UNKNOWN_SEX": ("unknown", "inconnu"),
    "status.unsolved": ("unsolved", "non résolu"),
    "status.solved": ("solved", "résolu"),
    "prov.typed": ("typed", "saisi"),
    "prov.note": ("note", "note"),
    "prov.labs": ("labs", "biologie"),
    "prov.phenopacket": ("phenopacket", "phenopacket"),
    "age.unknown": ("unknown", "inconnu"),
    "age.years": ("{n} y", "{n} ans"),
    "age.months": ("{n} mo", "{n} mois"),
    "age.days": ("{n} d", "{n} j"),
    # review
    "review.title": ("Findings to review", "Signes à valider"),
    "review.hint": (
        "Terms read from a note or derived from lab results count only once accepted.",
        "Les termes lus dans une note ou déduits de la biologie ne comptent qu'une fois acceptés.",
    ),
    "review.none": ("Nothing waiting for review.", "Rien en attente de validation."),
    "review.accept_excluded": ("Accept as excluded", "Accepter comme exclu"),
    "review.accept_present": ("Accept as present", "Accepter comme présent"),
    "review.reject": ("Reject", "Rejeter"),
    "review.remove": ("Remove", "Retirer"),
    "review.restore": ("Accept again", "Accepter à nouveau"),
    "review.mark_excluded": ("Mark excluded", "Marquer exclu"),
    "review.mark_present": ("Mark present", "Marquer présent"),
    "review.rejected": ("{n} rejected", "{n} rejeté(s)"),
    "review.done": ("Review recorded.", "Validation enregistrée."),
    "review.failed": ("The review was not recorded", "La validation n'a pas été enregistrée"),
    # note
    "note.title": ("Clinical note", "Note clinique"),
    "note.placeholder": (
        "Paste the note (English or French): its findings are proposed for review.",
        "Collez la note (anglais ou français) : ses signes sont proposés à la validation.",
    ),
    "note.language": ("Language of the note", "Langue de la note"),
    "note.lang_auto": ("detect", "détecter"),
    "note.submit": ("Read the note", "Lire la note"),
    "note.hint": (
        "Present and negated findings are proposed; family history and uncertain mentions are left out.",
        "Les signes présents et niés sont proposés ; antécédents familiaux et mentions incertaines sont écartés.",
    ),
    "note.proposed": (
        "{n} term(s) proposed from the note.",
        "{n} terme(s) proposé(s) à partir de la note.",
    ),
    "note.none": ("No HPO term found in the note.", "Aucun terme HPO trouvé dans la note."),
    "note.failed": ("The note could not be read", "La note n'a pas pu être lue"),
    # labs
    "labs.title": ("Lab results", "Résultats biologiques"),
    "labs.file": (
        "File (CSV/TSV, English or French headers, or FHIR R4 JSON)",
        "Fichier (CSV/TSV, en-têtes anglais ou français, ou FHIR R4 JSON)",
    ),
    "labs.submit": ("Derive terms", "Déduire les termes"),
    "labs.hint": (
        "Abnormal results propose observed terms, normal ones excluded terms; at most {mb} MiB.",
        "Les résultats anormaux proposent des termes observés, les normaux des termes exclus ; au plus {mb} Mio.",
    ),
    "labs.sex.unknown": ("unknown", "inconnu"),
    "labs.sex.F": ("female", "féminin"),
    "labs.sex.M": ("male", "masculin"),
    "labs.proposed": (
        "{n} term(s) derived from the lab results.",
        "{n} terme(s) déduit(s) des résultats biologiques.",
    ),
    "labs.none": (
        "No HPO term derived from these results.",
        "Aucun terme HPO déduit de ces résultats.",
    ),
    "labs.failed": (
        "The lab results could not be read",
        "Les résultats biologiques n'ont pas pu être lus",
    ),
    "labs.set_aside": ("Results that gave no term", "Résultats sans terme"),
    # uploads
    "upload.too_large": ("The file is too large.", "Le fichier est trop volumineux."),
    "upload.empty": ("The file is empty.", "Le fichier est vide."),
    "upload.not_text": ("The file is not UTF-8 text.", "Le fichier n'est pas du texte UTF-8."),
    "upload.not_json": (
        "The file is not JSON or JSON Lines.",
        "Le fichier n'est ni du JSON ni du JSON Lines.",
    ),
    "upload.bad_name": ("Unexpected file type: {name}", "Type de fichier inattendu : {name}"),
    # VCF
    "vcf.title": ("Exome or genome (VCF)", "Exome ou génome (VCF)"),
    "vcf.file": ("File", "Fichier"),
    "vcf.assembly": ("Assembly", "Assemblage"),
    "vcf.sample": ("Sample", "Échantillon"),
    "vcf.size": ("Size (bytes)", "Taille (octets)"),
    "vcf.none": ("No VCF attached.", "Aucun VCF attaché."),
    "vcf.choose": ("VCF file (plain, gzip or bgzip)", "Fichier VCF (texte, gzip ou bgzip)"),
    "vcf.roles": (
        "Geneticists and administrators upload VCFs.",
        "Les VCF sont téléversés par les généticien·ne·s et les administrateur·rice·s.",
    ),
    "vcf.upload": ("Upload and analyse", "Téléverser et analyser"),
    "vcf.uploading": ("Uploading…", "Téléversement…"),
    "vcf.uploaded": ("Uploaded; starting the analysis…", "Téléversé ; lancement de l'analyse…"),
    "vcf.analysing": ("Analysing the genome and phenotype…", "Analyse du génome et du phénotype…"),
    "vcf.done": ("Done: opening the results.", "Terminé : ouverture des résultats."),
    "vcf.failed": ("Failed", "Échec"),
    "vcf.needs_js": (
        "Uploading a VCF needs JavaScript.",
        "Le téléversement d'un VCF nécessite JavaScript.",
    ),
    "vcf.proband": ("proband", "cas index"),
    "vcf.annotations": ("annotations", "annotations"),
    # run
    "run.title": ("Diagnosis", "Diagnostic"),
    "run.hint": (
        "Ranks every disease and gene of the knowledge base from the accepted findings.",
        "Classe toutes les maladies et tous les gènes de la base à partir des signes acceptés.",
    ),
    "run.use_vcf": ("with the attached VCF", "avec le VCF attaché"),
    "run.submit": ("Run diagnosis", "Lancer le diagnostic"),
    "run.running": ("Running…", "En cours…"),
    "run.need_terms": (
        "Accept at least one observed finding first.",
        "Acceptez d'abord au moins un signe observé.",
    ),
    "run.failed": ("The diagnosis could not be run", "Le diagnostic n'a pas pu être lancé"),
    # results
    "results.title": ("Results", "Résultats"),
    "results.back": ("Back to the case", "Retour au dossier"),
    "results.none": ("No analysis yet", "Pas encore d'analyse"),
    "results.none_detail": (
        "Run a diagnosis from the case page first.",
        "Lancez d'abord un diagnostic depuis la page du dossier.",
    ),
    "results.outdated": (
        "This analysis was made with another knowledge base than the current one: run the diagnosis again to update it.",
        "Cette analyse a été faite avec une autre base de connaissances que l'actuelle : relancez le diagnostic pour la mettre à jour.",
    ),
    "results.analysis": ("Analysis", "Analyse"),
    "results.findings_used": ("Findings", "Signes"),
    "results.notes": ("{n} note(s) on the input", "{n} remarque(s) sur les données"),
    "results.diseases": ("Ranked diseases", "Maladies classées"),
    "results.disease": ("Disease", "Maladie"),
    "results.posterior": ("Posterior", "Probabilité a posteriori"),
    "results.lr_phenotype": ("log10 LR phenotype", "log10 RV phénotype"),
    "results.lr_genotype": ("log10 LR genotype", "log10 RV génotype"),
    "results.genes": ("Genes", "Gènes"),
    "results.genes_ranked": ("Ranked genes", "Gènes classés"),
    "results.gene": ("Gene", "Gène"),
    "results.score": ("Score", "Score"),
    "results.gene_diseases": ("Its best diseases", "Ses meilleures maladies"),
    "results.genotype": ("Genotype (VCF)", "Génotype (VCF)"),
    # explanation
    "matrix.heading": ("Why these candidates", "Pourquoi ces candidats"),
    "matrix.title": (
        "Contribution of each finding to the top candidates (log10 likelihood ratio)",
        "Contribution de chaque signe aux premiers candidats (log10 du rapport de vraisemblance)",
    ),
    "matrix.finding": ("Finding", "Signe"),
    "matrix.legend": (
        "Positive: the finding supports the candidate; negative: it speaks against it. "
        "Exact: the disease is annotated with the term; broader/narrower: the patient's term is "
        "broader/more specific than the annotation; related/unrelated: scored as background; "
        "annotated absent: the disease is annotated not to show it; excluded: an excluded finding.",
        "Positif : le signe soutient le candidat ; négatif : il va contre. Exact : la maladie est "
        "annotée avec le terme ; plus large/plus précis : le terme du patient est plus large/plus "
        "précis que l'annotation ; apparenté/sans rapport : compté comme bruit de fond ; annoté "
        "absent : la maladie est annotée comme ne le montrant pas ; exclu : un signe exclu.",
    ),
    "kind.exact": ("exact", "exact"),
    "kind.broader": ("broader", "plus large"),
    "kind.narrower": ("narrower", "plus précis"),
    "kind.related": ("related", "apparenté"),
    "kind.unrelated": ("unrelated", "sans rapport"),
    "kind.negated": ("annotated absent", "annoté absent"),
    "kind.excluded": ("excluded", "exclu"),
    "kind.absent": ("expected, not recorded", "attendu, non noté"),
    "explain.details": (
        "Evidence of each candidate, finding by finding",
        "Arguments de chaque candidat, signe par signe",
    ),
    "explain.match": ("Match", "Correspondance"),
    "explain.annotation": ("Disease annotation", "Annotation de la maladie"),
    "explain.frequency": ("Frequency", "Fréquence"),
    "explain.absent": ("Expected findings not recorded", "Signes attendus non notés"),
    "explain.onset": ("Age at onset", "Âge de début"),
    "explain.sex": ("Sex", "Sexe"),
    "explain.genotype": ("Genotype (VCF)", "Génotype (VCF)"),
    "explain.lr": ("log10 LR", "log10 RV"),
    "explain.total_phenotype": ("Phenotype total (log10 LR)", "Total du phénotype (log10 RV)"),
    # next findings
    "next.title": ("Findings to check next", "Signes à rechercher ensuite"),
    "next.hint": (
        "Unrecorded findings whose presence or absence best separates the top candidates.",
        "Signes non notés dont la présence ou l'absence départage le mieux les premiers candidats.",
    ),
    "next.none": ("No suggestion.", "Aucune suggestion."),
    "next.gain": ("Gain (bits)", "Gain (bits)"),
    "next.probability": ("P(present)", "P(présent)"),
    "next.if_present": ("If present", "Si présent"),
    "next.if_absent": ("If absent", "Si absent"),
    # variants
    "variants.title": ("Variants of the top genes", "Variants des premiers gènes"),
    "variants.variant": ("Variant", "Variant"),
    "variants.consequence": ("Consequence", "Conséquence"),
    "variants.frequency": ("Frequency", "Fréquence"),
    "variants.zygosity": ("Proband", "Cas index"),
    "variants.quality": ("Quality", "Qualité"),
    "variants.status": ("Kept or set aside", "Retenu ou écarté"),
    "variants.kept": ("kept", "retenu"),
    "variants.not_listed": ("not listed", "non répertorié"),
    "variants.kept_in_genotype": (
        "kept, in the genotype scored",
        "retenu, dans le génotype évalué",
    ),
    "variants.set_aside": ("set aside", "écarté"),
    "variants.none": (
        "The proband carries no variant in the top genes.",
        "Le cas index ne porte aucun variant dans les premiers gènes.",
    ),
    "variants.unavailable": (
        "The variants cannot be listed: {reason}",
        "Les variants ne peuvent pas être listés : {reason}",
    ),
    "reason.quality": ("quality", "qualité"),
    "reason.frequency": ("frequency", "fréquence"),
    "reason.consequence": ("consequence", "conséquence"),
    "reason.inheritance": ("inheritance", "transmission"),
    "reason.segregation": ("segregation", "ségrégation"),
    # treatments
    "treat.title": ("Treatments", "Traitements"),
    "treat.notice": (
        "Decision support, not a prescription: check the current product information, guidelines and the patient's situation.",
        "Aide à la décision, pas une prescription : vérifiez l'information produit, les recommandations et la situation du patient.",
    ),
    "treat.none": (
        "No treatment listed for the top candidates.",
        "Aucun traitement répertorié pour les premiers candidats.",
    ),
    "treat.genotype": ("genotype", "génotype"),
    "treat.cautions": ("Cautions", "Précautions"),
    "level.approved": ("approved for this indication", "autorisé dans cette indication"),
    "level.guideline": ("guideline", "recommandation"),
    "level.prospective_study": ("prospective study", "étude prospective"),
    "level.case_series": ("case series", "série de cas"),
    "level.case_report": ("case report", "cas rapporté"),
    "level.annotation": ("MAxO annotation (ungraded)", "annotation MAxO (non gradée)"),
    "tstatus.available": ("available", "disponible"),
    "tstatus.investigational": ("investigational", "expérimental"),
    "tstatus.withdrawn": ("withdrawn", "retiré"),
    "dnm.title": ("Do not miss", "À ne pas manquer"),
    "dnm.hint": (
        "Treatable diseases with a posterior of 2% or more that are not ranked first.",
        "Maladies traitables avec une probabilité a posteriori d'au moins 2 % qui ne sont pas en tête.",
    ),
    "dnm.none": ("None.", "Aucune."),
    # similar patients
    "similar.title": ("Similar patients", "Patients similaires"),
    "similar.hint": (
        "Cases of your centre with a similar phenotype or the same candidate genes.",
        "Dossiers de votre centre au phénotype proche ou aux mêmes gènes candidats.",
    ),
    "similar.none": ("No other case to compare with.", "Aucun autre dossier à comparer."),
    "similar.score": ("Score", "Score"),
    "similar.phenotype": ("Phenotype", "Phénotype"),
    "similar.genes": ("Genes", "Gènes"),
    "similar.shared_genes": ("Shared candidate genes", "Gènes candidats communs"),
    # report
    "report.title": ("raredx diagnostic support report", "Rapport d'aide au diagnostic raredx"),
    "report.html": ("Report", "Rapport"),
    "report.pdf": ("Report (PDF)", "Rapport (PDF)"),
    "report.centre": ("Centre", "Centre"),
    "report.download": ("Download the PDF", "Télécharger le PDF"),
    "report.tools": ("Report tools", "Outils du rapport"),
    "report.generated_by": ("Generated by", "Généré par"),
    "report.analysis": ("Analysis", "Analyse"),
    "report.parameters": ("Ranking parameters", "Paramètres du classement"),
    "report.findings": ("Findings", "Signes cliniques"),
    "report.differential": ("Differential diagnosis", "Diagnostic différentiel"),
    "report.explanations": (
        "Explanation of the top candidates",
        "Explication des premiers candidats",
    ),
}


def negotiate(request: Request) -> Lang:
    """The cookie's language, else the best of en/fr in Accept-Language, else en."""
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGS:
        return "fr" if cookie == "fr" else "en"
    best: tuple[float, int, Lang] | None = None
    header = request.headers.get("accept-language", "")
    for position, part in enumerate(header.split(",")[:20]):
        pieces = [p.strip() for p in part.split(";")]
        tag = pieces[0].lower().split("-", 1)[0]
        if tag not in LANGS:
            continue
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        lang: Lang = "fr" if tag == "fr" else "en"
        key = (-quality, position, lang)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else "en"


def format_number(value: float, digits: int, lang: str, *, sign: bool = False) -> str:
    """`value` with `digits` decimals, a decimal comma in French, optionally signed."""
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "fr" else text


def format_percent(value: float, digits: int, lang: str) -> str:
    """A 0-1 value as a percentage: ``49.6%`` in English, ``49,6 %`` in French."""
    number = format_number(value * 100.0, digits, lang)
    return f"{number}\u202f%" if lang == "fr" else f"{number}%"


class Translator:
    """The UI strings of one language: ``t("key", n=3)``."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self._index = LANGS.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = MESSAGES[key][self._index]
        return text.format(**values) if values else text
