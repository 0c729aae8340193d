"""The dashboard's words in English and Norwegian bokmål.

Every text the dashboard shows is looked up here by key, so a workshop can run
in either language (``introsim dashboard --lang nb``). Lever labels are keyed
by the lever's dotted path in the scenario schema.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "nb")
DEFAULT_LANGUAGE = "en"

TEXT: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ page
    "title": {
        "en": "Introduction programme: what if?",
        "nb": "Introduksjonsprogrammet: hva om?",
    },
    "preset": {"en": "Starting point (scenario)", "nb": "Utgangspunkt (scenario)"},
    "reset": {"en": "Reset to preset", "nb": "Tilbake til utgangspunktet"},
    "replications": {"en": "Replicates per scenario", "nb": "Gjentak per scenario"},
    "projector": {"en": "Projector (large type)", "nb": "Prosjektor (stor skrift)"},
    "language": {"en": "Språk / language", "nb": "Språk / language"},
    "levers": {"en": "Levers", "nb": "Spaker"},
    "tab_whatif": {"en": "What if?", "nb": "Hva om?"},
    "tab_watch": {"en": "Watch one run", "nb": "Følg én kjøring"},
    "tab_share": {"en": "Export and link", "nb": "Eksport og lenke"},
    "reference": {"en": "reference", "nb": "referanse"},
    "whatif": {"en": "what-if", "nb": "hva om"},
    "your_settings": {"en": "your settings", "nb": "dine valg"},
    "method_own": {"en": "the method's own", "nb": "metodens egen"},
    "updated": {
        "en": "Updated in {seconds:.2f} s ({runs} runs)",
        "nb": "Oppdatert på {seconds:.2f} s ({runs} kjøringer)",
    },
    "out_of_range": {
        "en": "Not run: {label}: {problem}",
        "nb": "Ikke kjørt: {label}: {problem}",
    },
    "bad_link": {
        "en": "Ignored from the link: {problem}",
        "nb": "Ignorert fra lenken: {problem}",
    },
    "source": {"en": "Source", "nb": "Kilde"},
    "expected_choice": {
        "en": "expected one of {choices}, found {found}",
        "nb": "forventet en av {choices}, fant {found}",
    },
    "expected_number": {
        "en": "expected a number, found {found}",
        "nb": "forventet et tall, fant {found}",
    },
    "expected_int": {
        "en": "expected a whole number, found {found}",
        "nb": "forventet et heltall, fant {found}",
    },
    "expected_float": {
        "en": "expected a number, found {found}",
        "nb": "forventet et tall, fant {found}",
    },
    "expected_range": {
        "en": "expected {low} to {high} ({unit}), found {found}",
        "nb": "tillatt {low} til {high} ({unit}), fant {found}",
    },
    "unit": {"en": "Unit", "nb": "Enhet"},
    "allowed": {"en": "Allowed", "nb": "Tillatt"},
    # ------------------------------------------------------------------ headline
    "headline": {
        "en": "With your settings, {value} of the participants are in work or education "
        "when they leave the programme ({low} to {high}). That is {diff} percentage points "
        "{direction} than in '{reference}' ({dlow} to {dhigh}).",
        "nb": "Med dine valg er {value} av deltakerne i arbeid eller utdanning når de går ut "
        "av programmet ({low} til {high}). Det er {diff} prosentpoeng {direction} enn i "
        "'{reference}' ({dlow} til {dhigh}).",
    },
    "more": {"en": "more", "nb": "flere"},
    "fewer": {"en": "fewer", "nb": "færre"},
    "target_met": {
        "en": "The municipal target of {target} is met.",
        "nb": "Kommunenes mål om {target} er nådd.",
    },
    "target_missed": {
        "en": "The municipal target of {target} is not met.",
        "nb": "Kommunenes mål om {target} er ikke nådd.",
    },
    "headline_work": {
        "en": "In work after 12 months: {value} ({diff} points vs reference, {dlow} to {dhigh}). "
        "Public cost per participant: {cost} NOK ({cost_diff} NOK vs reference).",
        "nb": "I arbeid etter 12 måneder: {value} ({diff} poeng mot referansen, {dlow} til "
        "{dhigh}). Offentlig kostnad per deltaker: {cost} kr ({cost_diff} kr mot referansen).",
    },
    "intervals_note": {
        "en": "Ranges are 95 % intervals over {n} replicates with common random numbers.",
        "nb": "Spennene er 95 % intervaller over {n} gjentak med felles tilfeldige tall.",
    },
    # ------------------------------------------------------------------ charts
    "chart_in_work": {"en": "Share in work, week by week", "nb": "Andel i arbeid, uke for uke"},
    "chart_status": {"en": "Where the participants are", "nb": "Hvor deltakerne er"},
    "chart_cost": {
        "en": "Public cost per participant (NOK)",
        "nb": "Offentlig kostnad per deltaker (kr)",
    },
    "chart_subgroups": {
        "en": "In work after 12 months, by group",
        "nb": "I arbeid etter 12 måneder, etter gruppe",
    },
    "week": {"en": "week", "nb": "uke"},
    "share": {"en": "share", "nb": "andel"},
    "target": {"en": "municipal target", "nb": "kommunenes mål"},
    "interval": {"en": "95 % interval", "nb": "95 % intervall"},
    "cost_specialist_nok": {"en": "specialists and advisors", "nb": "veiledere og spesialister"},
    "cost_subsidy_nok": {"en": "wage subsidy", "nb": "lønnstilskudd"},
    "cost_benefit_nok": {"en": "introduction benefit", "nb": "introduksjonsstønad"},
    # ------------------------------------------------------------------ statuses
    "status_waiting": {"en": "waiting", "nb": "venter"},
    "status_programme": {"en": "in the programme", "nb": "i programmet"},
    "status_employed": {"en": "in ordinary work", "nb": "i ordinært arbeid"},
    "status_subsidised": {"en": "in subsidised work", "nb": "i arbeid med lønnstilskudd"},
    "status_education": {"en": "in education", "nb": "i utdanning"},
    "status_unemployed": {"en": "unemployed", "nb": "arbeidsledig"},
    "status_inactive": {"en": "inactive", "nb": "utenfor arbeidslivet"},
    "status_not_arrived": {"en": "not yet arrived", "nb": "ikke kommet ennå"},
    # ------------------------------------------------------------------ subgroups
    "sub_sex": {"en": "sex", "nb": "kjønn"},
    "sub_education": {"en": "education", "nb": "utdanning"},
    "sub_language_band": {"en": "Norwegian at start", "nb": "norsk ved start"},
    "sub_mental_health": {"en": "health", "nb": "helse"},
    "sub_care": {"en": "care", "nb": "omsorg"},
    "level_male": {"en": "men", "nb": "menn"},
    "level_female": {"en": "women", "nb": "kvinner"},
    "level_none": {"en": "none", "nb": "ingen"},
    "level_primary": {"en": "primary", "nb": "grunnskole"},
    "level_secondary": {"en": "secondary", "nb": "videregående"},
    "level_tertiary": {"en": "tertiary", "nb": "høyere"},
    "level_low": {"en": "low", "nb": "lav"},
    "level_some": {"en": "some", "nb": "noe"},
    "level_A1+": {"en": "A1 or more", "nb": "A1 eller mer"},
    "level_no burden": {"en": "no burden", "nb": "uten belastning"},
    "level_burden": {"en": "mental-health burden", "nb": "psykisk belastning"},
    "level_no care": {"en": "no young children", "nb": "ikke små barn"},
    "level_care": {"en": "young children", "nb": "små barn"},
    # ------------------------------------------------------------------ levers
    "follow_up.method": {"en": "Follow-up method", "nb": "Oppfølgingsmetode"},
    "follow_up.caseload": {
        "en": "Caseload (participants per specialist)",
        "nb": "Saksmengde (deltakere per veileder)",
    },
    "wage_subsidy.rate": {"en": "Wage subsidy rate", "nb": "Lønnstilskudd, sats"},
    "wage_subsidy.weeks": {
        "en": "Wage subsidy, longest period",
        "nb": "Lønnstilskudd, lengste periode",
    },
    "wage_subsidy.eligibility": {"en": "Wage subsidy for whom", "nb": "Lønnstilskudd for hvem"},
    "programme.max_weeks": {"en": "Programme length", "nb": "Programmets lengde"},
    "follow_up.language_support_hours": {
        "en": "Language support in follow-up",
        "nb": "Språkstøtte i oppfølgingen",
    },
    "follow_up.after_follow_up_weeks": {
        "en": "After-follow-up in the job",
        "nb": "Etteroppfølging i jobben",
    },
    "labour_market.unemployment_rate": {"en": "Local unemployment", "nb": "Lokal arbeidsledighet"},
    "labour_market.open_share": {
        "en": "Employers open to hiring refugees",
        "nb": "Arbeidsgivere åpne for å ansette flyktninger",
    },
    "cohort.size": {"en": "Cohort size", "nb": "Kullstørrelse"},
    "cohort.language_mean": {
        "en": "Norwegian at arrival (0-6, 3 = B1)",
        "nb": "Norsk ved ankomst (0-6, 3 = B1)",
    },
    # ------------------------------------------------------------------ choices
    "choice_standard": {"en": "standard follow-up", "nb": "ordinær oppfølging"},
    "choice_ips": {"en": "IPS (place, then train)", "nb": "IPS (jobb først)"},
    "choice_se": {"en": "Supported Employment", "nb": "Supported Employment"},
    "choice_none": {"en": "nobody", "nb": "ingen"},
    "choice_all": {"en": "everyone", "nb": "alle"},
    "choice_low_language": {"en": "below B1 Norwegian", "nb": "under B1 i norsk"},
    "choice_reduced_capacity": {
        "en": "reduced work capacity (health)",
        "nb": "nedsatt arbeidsevne (helse)",
    },
    # ------------------------------------------------------------------ units (by schema unit)
    "unit_weeks": {"en": "weeks", "nb": "uker"},
    "unit_hours/week": {"en": "hours/week", "nb": "timer/uke"},
    "unit_participants": {"en": "participants", "nb": "deltakere"},
    "unit_participants per specialist": {
        "en": "participants per specialist",
        "nb": "deltakere per veileder",
    },
    "unit_scale 0-6 (1 = A1, 3 = B1)": {"en": "on the 0-6 scale", "nb": "på skalaen 0-6"},
    # ------------------------------------------------------------------ watch one run
    "watch_intro": {
        "en": "One run of your settings, week by week: press ▶ to play, Step for one week, "
        "Reset to start again. Each square is one participant.",
        "nb": "Én kjøring med dine valg, uke for uke: trykk ▶ for å spille av, Step for én uke, "
        "Reset for å starte på nytt. Hver rute er én deltaker.",
    },
    "watch_week": {"en": "Week {week} of {weeks}", "nb": "Uke {week} av {weeks}"},
    "chart_cohort": {"en": "The cohort this week", "nb": "Kullet denne uken"},
    "chart_counts": {"en": "The cohort so far", "nb": "Kullet så langt"},
    "participants": {"en": "participants", "nb": "deltakere"},
    # ------------------------------------------------------------------ export
    "export_intro": {
        "en": "Your settings as a scenario file that introsim run and introsim compare "
        "accept. To reproduce these numbers: {command}",
        "nb": "Dine valg som scenariofil for introsim run og introsim compare. "
        "Slik får du de samme tallene: {command}",
    },
    "download": {"en": "Download scenario file", "nb": "Last ned scenariofil"},
    "link": {"en": "Link that reopens these settings", "nb": "Lenke som åpner disse valgene"},
}


def t(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` (English where a key has no translation).

    Args:
        key: A key of :data:`TEXT`.
        lang: One of :data:`LANGUAGES`.
        **values: Values for the text's ``{placeholders}``.

    Returns:
        The text, with placeholders filled.
    """
    entry = TEXT[key]
    text = entry.get(lang, entry[DEFAULT_LANGUAGE])
    return text.format(**values) if values else text


def unit(name: str, lang: str) -> str:
    """A schema unit in ``lang`` (the schema's own words where there is no translation)."""
    entry = TEXT.get(f"unit_{name}")
    return entry.get(lang, entry[DEFAULT_LANGUAGE]) if entry else name


def number(value: float, lang: str, decimals: int = 1, signed: bool = False) -> str:
    """A number in the language's style: thousands by a space, decimal comma in bokmål."""
    if value != value:  # NaN: nothing to show
        return "–"
    text = f"{value:{'+' if signed else ''},.{decimals}f}".replace(",", " ")
    if lang == "nb":
        text = text.replace(".", ",")
    return text.replace("-", "−")


def percent(share: float, lang: str, signed: bool = False) -> str:
    """A share 0-1 as a percentage, e.g. ``52.8 %``."""
    return number(100 * share, lang, 1, signed) + " %"
