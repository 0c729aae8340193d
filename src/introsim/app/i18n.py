"""The dashboard's words and numbers in English and Norwegian bokmål.

Every text the dashboard shows is looked up here by key, so a workshop can run
in either language (``introsim dashboard --lang nb``). Lever labels are keyed
by the lever's dotted path in the scenario schema; their tooltips by
``meaning_`` and the path. Numbers are written the language's way: in bokmål a
decimal comma, a narrow no-break space between thousands and "kr" after
amounts of money; in English a decimal point, a space and "NOK", as in the
reports (:mod:`introsim.reporting.format`, whose outcome formats the sentences use).
"""

from __future__ import annotations

import math

from introsim.reporting.format import GLUE, MISSING, THOUSANDS_NB, localise

LANGUAGES: tuple[str, ...] = ("en", "nb")
DEFAULT_LANGUAGE = "en"

MINUS = "−"

TEXT: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ page
    "title": {
        "en": "Introduction programme: what if?",
        "nb": "Introduksjonsprogrammet: hva om?",
    },
    "language_name": {"en": "English", "nb": "Bokmål"},
    "preset": {"en": "Starting point", "nb": "Utgangspunkt"},
    "reset": {"en": "Back to the starting point", "nb": "Tilbake til utgangspunktet"},
    "replications": {"en": "Runs per scenario", "nb": "Kjøringer per scenario"},
    "meaning_replications": {
        "en": "Each scenario is simulated this many times with different chance; more runs pin "
        "the averages down better and take longer",
        "nb": "Hvert scenario simuleres så mange ganger med ulik tilfeldighet; flere kjøringer "
        "gir sikrere gjennomsnitt, men tar lengre tid",
    },
    "projector": {"en": "Projector (large type)", "nb": "Prosjektor (stor skrift)"},
    "levers": {"en": "Levers", "nb": "Virkemidler"},
    "open_levers": {"en": "Levers", "nb": "Virkemidler"},
    "close": {"en": "Close", "nb": "Lukk"},
    "present": {"en": "Present", "nb": "Presenter"},
    "present_exit": {"en": "End the presentation", "nb": "Avslutt presentasjonen"},
    "snapshot": {"en": "Save picture (PNG)", "nb": "Lagre bilde (PNG)"},
    "snapshot_note": {
        "en": "A picture of the result for the minutes: the settings, the result in words "
        "and the charts.",
        "nb": "Et bilde av resultatet til referatet: valgene, resultatet i ord og figurene.",
    },
    "tab_whatif": {"en": "What if?", "nb": "Hva om?"},
    "tab_watch": {"en": "Watch one run", "nb": "Følg én kjøring"},
    "tab_share": {"en": "Export and link", "nb": "Eksport og lenke"},
    "reference": {"en": "starting point", "nb": "utgangspunkt"},
    "your_settings": {"en": "your settings", "nb": "dine valg"},
    "method_own": {"en": "the method's own", "nb": "metodens egen"},
    "computed_for": {
        "en": "Computed for: {preset} with {changes}; {runs} runs per scenario.",
        "nb": "Beregnet for: {preset} med {changes}; {runs} kjøringer per scenario.",
    },
    "computed_for_members": {
        "en": "Computed for: {preset} with {changes}; {runs} runs per scenario ({members} of "
        "the {total} plausible sets of assumptions from the calibration, {replicates} runs "
        "each).",
        "nb": "Beregnet for: {preset} med {changes}; {runs} kjøringer per scenario ({members} "
        "av de {total} mulige settene av antakelser fra kalibreringen, {replicates} kjøringer "
        "hver).",
    },
    "no_changes": {"en": "no changes", "nb": "ingen endringer"},
    "computing": {"en": "Computing …", "nb": "Regner ut …"},
    "stale": {
        "en": "The results below are still those of the last accepted settings.",
        "nb": "Resultatene under gjelder fortsatt de siste godtatte valgene.",
    },
    "updated": {
        "en": "Updated in {seconds} ({runs} new runs).",
        "nb": "Oppdatert på {seconds} ({runs} nye kjøringer).",
    },
    "refused": {
        "en": "Not used: {label}: {problem}. Still in effect: {kept}.",
        "nb": "Ikke brukt: {label}: {problem}. Gjelder fortsatt: {kept}.",
    },
    "bad_link": {
        "en": "Not taken from the link: {problem}",
        "nb": "Ikke hentet fra lenken: {problem}",
    },
    "failed": {
        "en": "Something went wrong while computing ({kind}). The results shown are the last "
        "that could be computed.",
        "nb": "Noe gikk galt under beregningen ({kind}). Resultatene som vises, er de siste "
        "som kunne beregnes.",
    },
    "page_failed": {
        "en": "Something went wrong on this page ({kind}). Reload the page to start again.",
        "nb": "Noe gikk galt på denne siden ({kind}). Last inn siden på nytt for å begynne igjen.",
    },
    "interrupted": {
        "en": "The computation was interrupted.",
        "nb": "Beregningen ble avbrutt.",
    },
    "compute_again": {"en": "Compute again", "nb": "Regn ut på nytt"},
    "source": {"en": "Source", "nb": "Kilde"},
    "unit": {"en": "Unit", "nb": "Enhet"},
    "allowed": {"en": "Allowed", "nb": "Tillatt"},
    # ------------------------------------------------------------------ refusals
    "expected_choice": {
        "en": "choose one of {choices}; found {found}",
        "nb": "velg en av {choices}; fant {found}",
    },
    "expected_number": {
        "en": "expected a number, found {found}",
        "nb": "skriv et tall, fant {found}",
    },
    "expected_int": {
        "en": "expected a whole number, found {found}",
        "nb": "skriv et heltall, fant {found}",
    },
    "expected_range": {
        "en": "allowed from {low} to {high}, found {found}",
        "nb": "tillatt fra {low} til {high}, fant {found}",
    },
    "too_long": {
        "en": "a value of {n} characters is too long",
        "nb": "en verdi på {n} tegn er for lang",
    },
    "conflict": {
        "en": "does not fit with {others} ({problem})",
        "nb": "passer ikke sammen med {others}",
    },
    "unknown_key": {"en": "{name} is not a setting", "nb": "{name} er ikke en innstilling"},
    "unknown_preset": {
        "en": "there is no starting point named {found}",
        "nb": "det finnes ikke noe utgangspunkt som heter {found}",
    },
    "too_many": {
        "en": "more than {n} values; the rest were left out",
        "nb": "mer enn {n} verdier; resten ble utelatt",
    },
    # ------------------------------------------------------------------ the result in words
    "headline": {
        "en": "With your settings, {value} of the participants are in work or education "
        "when they leave the programme: {comparison}.",
        "nb": "Med dine valg er {value} av deltakerne i arbeid eller utdanning når de går ut "
        "av programmet: {comparison}.",
    },
    "compared_more": {
        "en": "{diff} percentage points higher than in {reference}",
        "nb": "{diff} prosentpoeng høyere enn i {reference}",
    },
    "compared_less": {
        "en": "{diff} percentage points lower than in {reference}",
        "nb": "{diff} prosentpoeng lavere enn i {reference}",
    },
    "compared_same": {
        "en": "the same as in {reference}",
        "nb": "det samme som i {reference}",
    },
    "spread": {
        "en": "With the same assumptions, the result for one cohort of {n} usually lands "
        "between {low} and {high} (19 cohorts in 20), and its difference from {reference} "
        "between {dlow} and {dhigh} percentage points.",
        "nb": "Med samme forutsetninger havner resultatet for ett kull på {n} deltakere som "
        "regel mellom {low} og {high} (19 av 20 kull), og forskjellen fra {reference} "
        "mellom {dlow} og {dhigh} prosentpoeng.",
    },
    "spread_alone": {
        "en": "With the same assumptions, the result for one cohort of {n} usually lands "
        "between {low} and {high} (19 cohorts in 20).",
        "nb": "Med samme forutsetninger havner resultatet for ett kull på {n} deltakere som "
        "regel mellom {low} og {high} (19 av 20 kull).",
    },
    "precision": {
        "en": "The simulation pins the average down to within ±{half} percentage points "
        "({runs} runs; more runs shrink this figure, not the range above).",
        "nb": "Simuleringen bestemmer gjennomsnittet med en usikkerhet på ±{half} prosentpoeng "
        "({runs} kjøringer; flere kjøringer gjør dette tallet mindre, men ikke spennet over).",
    },
    "few_runs": {
        "en": "With fewer than {n} runs these ranges say little: choose more runs.",
        "nb": "Med færre enn {n} kjøringer sier spennene lite: velg flere kjøringer.",
    },
    "unknown_mechanisms": {
        "en": "Not included: what we do not know about how the programme works (the model's "
        "assumptions). The ranges hold if those assumptions are right.",
        "nb": "Ikke med: det vi ikke vet om hvordan programmet virker (modellens antakelser). "
        "Spennene gjelder hvis antakelsene stemmer.",
    },
    "mechanisms": {
        "en": "What we do not know about how the programme works: across {members} of the "
        "{total} plausible sets of assumptions from the calibration, the average lands between "
        "{low} and {high}.",
        "nb": "Det vi ikke vet om hvordan programmet virker: med {members} av de {total} mulige "
        "settene av antakelser fra kalibreringen havner gjennomsnittet mellom {low} og {high}.",
    },
    "target_chance": {
        "en": "Chance of reaching the municipal target of {target}: {chance} for one cohort of "
        "{n} ({hits} of {runs} simulated cohorts reach it; the average is {value}), if the "
        "model's assumptions are right.",
        "nb": "Sjansen for å nå kommunenes mål om {target}: {chance} for ett kull på {n} "
        "deltakere ({hits} av {runs} simulerte kull når det; gjennomsnittet er {value}), hvis "
        "modellens antakelser stemmer.",
    },
    "target_chance_members": {
        "en": "Chance of reaching the municipal target of {target}: {chance} for one cohort of "
        "{n} ({hits} of {runs} simulated cohorts reach it, over {members} plausible sets of "
        "assumptions); the average reaches it with {by_sets} of those sets ({set_hits} of "
        "{members}; the average over all is {value}).",
        "nb": "Sjansen for å nå kommunenes mål om {target}: {chance} for ett kull på {n} "
        "deltakere ({hits} av {runs} simulerte kull når det, med {members} mulige sett av "
        "antakelser); gjennomsnittet når det med {by_sets} av settene ({set_hits} av "
        "{members}; gjennomsnittet over alle er {value}).",
    },
    "chance_about": {"en": "about {p}", "nb": "omtrent {p}"},
    "chance_under": {"en": "under {p}", "nb": "under {p}"},
    "chance_over": {"en": "over {p}", "nb": "over {p}"},
    "work_and_cost": {
        "en": "In work after 12 months: {work} ({work_diff} percentage points against "
        "{reference}; one cohort usually {work_low} to {work_high}). Public cost per "
        "participant: {cost} ({cost_diff} against {reference}; one cohort usually {cost_low} "
        "to {cost_high}).",
        "nb": "I arbeid etter 12 måneder: {work} ({work_diff} prosentpoeng mot {reference}; "
        "ett kull som regel {work_low} til {work_high}). Offentlig kostnad per deltaker: "
        "{cost} ({cost_diff} mot {reference}; ett kull som regel {cost_low} til {cost_high}).",
    },
    # ------------------------------------------------------------------ charts
    "chart_in_work": {"en": "Share in work, week by week", "nb": "Andel i arbeid, uke for uke"},
    "caption_in_work": {
        "en": "Lines: the average over the runs. Shading: where one cohort usually lands "
        "(19 cohorts in 20).",
        "nb": "Linjene: gjennomsnittet over kjøringene. Skyggen: der ett kull som regel havner "
        "(19 av 20 kull).",
    },
    "band": {"en": "one cohort, 19 in 20", "nb": "ett kull, 19 av 20"},
    "chart_status": {
        "en": "Where the participants are, week by week",
        "nb": "Hvor deltakerne er, uke for uke",
    },
    "caption_status": {
        "en": "Average share of the participants who have arrived, over the runs.",
        "nb": "Gjennomsnittlig andel av deltakerne som har kommet, over kjøringene.",
    },
    "chart_payers": {"en": "Who pays, who gains", "nb": "Hvem betaler, hvem får"},
    "caption_payers": {
        "en": "Per participant: the average over the runs, in present value over the horizon. "
        "Costs stack to the right of zero, income (the grant received, taxes) to the left; the "
        "black diamond is each payer's net cost.",
        "nb": "Per deltaker: gjennomsnittet over kjøringene, i nåverdi over tidshorisonten. "
        "Kostnader stables til høyre for null, inntekter (tilskudd, skatt) til venstre; den "
        "svarte ruten er hver betalers nettokostnad.",
    },
    "net_cost": {"en": "net cost", "nb": "nettokostnad"},
    "payer_municipality": {"en": "Municipality", "nb": "Kommunen"},
    "payer_state": {"en": "State", "nb": "Staten"},
    "payer_nav": {"en": "NAV", "nb": "NAV"},
    "flow_introduction_benefit": {"en": "introduction benefit", "nb": "introduksjonsstønad"},
    "flow_social_assistance": {"en": "social assistance", "nb": "sosialhjelp"},
    "flow_specialists": {
        "en": "advisors and job specialists",
        "nb": "veiledere og jobbspesialister",
    },
    "flow_teaching": {"en": "teachers", "nb": "lærere"},
    "flow_wage_subsidy": {"en": "wage subsidy", "nb": "lønnstilskudd"},
    "flow_nav_follow_up": {
        "en": "NAV follow-up and measures",
        "nb": "NAVs oppfølging og tiltak",
    },
    "flow_integration_grant": {"en": "integration grant", "nb": "integreringstilskudd"},
    "flow_income_tax": {"en": "income tax", "nb": "inntektsskatt"},
    "flow_employer_contributions": {
        "en": "employer's contributions",
        "nb": "arbeidsgiveravgift",
    },
    "chart_subgroups": {
        "en": "In work after 12 months, by group",
        "nb": "I arbeid etter 12 måneder, etter gruppe",
    },
    "caption_subgroups": {
        "en": "Bars: the average over the runs. Whiskers: how precisely the simulation pins "
        "that average down (95 %), not the spread of one cohort.",
        "nb": "Søylene: gjennomsnittet over kjøringene. Strekene: hvor sikkert simuleringen "
        "bestemmer gjennomsnittet (95 %), ikke spredningen i ett kull.",
    },
    "week": {"en": "week", "nb": "uke"},
    "percent_axis": {"en": "per cent", "nb": "prosent"},
    "money_unit": {"en": "NOK", "nb": "kr"},
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
    "meaning_follow_up.method": {
        "en": "How the participants are followed up towards work",
        "nb": "Hvordan deltakerne følges opp mot arbeid",
    },
    "follow_up.caseload": {
        "en": "Caseload (participants per specialist)",
        "nb": "Saksmengde (deltakere per veileder)",
    },
    "meaning_follow_up.caseload": {
        "en": "Most participants one job specialist follows up (20 or fewer for IPS as "
        "intended; about 15 on average in Proba's study)",
        "nb": "Flest deltakere én jobbspesialist følger opp (20 eller færre for IPS slik "
        "metoden er ment; rundt 15 i snitt i Probas studie)",
    },
    "wage_subsidy.rate": {"en": "Wage subsidy rate", "nb": "Lønnstilskudd, sats"},
    "meaning_wage_subsidy.rate": {
        "en": "Share of the wage costs paid to the employer in the first period; 0 = no subsidy",
        "nb": "Andel av lønnskostnadene som dekkes for arbeidsgiveren i første periode; "
        "0 = ikke noe tilskudd",
    },
    "wage_subsidy.weeks": {
        "en": "Wage subsidy, longest period",
        "nb": "Lønnstilskudd, lengste periode",
    },
    "meaning_wage_subsidy.weeks": {
        "en": "Longest period a subsidy is paid",
        "nb": "Lengste periode det betales tilskudd",
    },
    "wage_subsidy.eligibility": {"en": "Wage subsidy for whom", "nb": "Lønnstilskudd for hvem"},
    "meaning_wage_subsidy.eligibility": {
        "en": "Who may bring a subsidy: everyone, those below B1, or those with a health burden",
        "nb": "Hvem som kan få tilskudd: alle, de under B1 i norsk, eller de med helsebelastning",
    },
    "programme.max_weeks": {"en": "Programme length", "nb": "Programmets lengde"},
    "meaning_programme.max_weeks": {
        "en": "Longest time in the programme (3 months to 3 years under the Integration Act; "
        "2 years is typical)",
        "nb": "Lengste tid i programmet (3 måneder til 3 år etter integreringsloven; 2 år er "
        "vanlig)",
    },
    "follow_up.language_support_hours": {
        "en": "Language support in follow-up",
        "nb": "Språkstøtte i oppfølgingen",
    },
    "meaning_follow_up.language_support_hours": {
        "en": "Hours a week of Norwegian support built into the follow-up; by default the "
        "method's own",
        "nb": "Timer i uken med norskstøtte i oppfølgingen; ellers metodens egen",
    },
    "follow_up.after_follow_up_weeks": {
        "en": "After-follow-up in the job",
        "nb": "Etteroppfølging i jobben",
    },
    "meaning_follow_up.after_follow_up_weeks": {
        "en": "Weeks the specialist keeps following a participant who has found work; by "
        "default the method's own",
        "nb": "Uker veilederen fortsetter å følge opp en deltaker som har fått jobb; ellers "
        "metodens egen",
    },
    "labour_market.unemployment_rate": {"en": "Local unemployment", "nb": "Lokal arbeidsledighet"},
    "meaning_labour_market.unemployment_rate": {
        "en": "Local unemployment rate (more job seekers compete for each vacancy)",
        "nb": "Lokal arbeidsledighet (flere jobbsøkere konkurrerer om hver ledige stilling)",
    },
    "labour_market.open_share": {
        "en": "Employers open to hiring refugees",
        "nb": "Arbeidsgivere åpne for å ansette flyktninger",
    },
    "meaning_labour_market.open_share": {
        "en": "Share of the employers willing to hire a refugee at all (11 % had, 35 % might)",
        "nb": "Andel av arbeidsgiverne som i det hele tatt vil ansette en flyktning "
        "(11 % hadde gjort det, 35 % kunne tenke seg det)",
    },
    "cohort.size": {"en": "Cohort size", "nb": "Kullstørrelse"},
    "meaning_cohort.size": {
        "en": "Number of participants in the cohort",
        "nb": "Antall deltakere i kullet",
    },
    "cohort.language_mean": {
        "en": "Norwegian at arrival (0-6, 3 = B1)",
        "nb": "Norsk ved ankomst (0-6, 3 = B1)",
    },
    "meaning_cohort.language_mean": {
        "en": "Average Norwegian at arrival, on a scale where 1 is A1 and 3 is B1",
        "nb": "Gjennomsnittlig norsk ved ankomst, på en skala der 1 er A1 og 3 er B1",
    },
    # ------------------------------------------------------------------ choices
    "choice_standard": {"en": "standard follow-up", "nb": "ordinær oppfølging"},
    "choice_ips": {"en": "IPS (place, then train)", "nb": "IPS (jobb først)"},
    "choice_se": {"en": "Supported Employment", "nb": "Supported Employment (SE)"},
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
    "unit_participants per specialist": {"en": "per specialist", "nb": "per veileder"},
    "unit_scale 0-6 (1 = A1, 3 = B1)": {"en": "on the 0-6 scale", "nb": "på skalaen 0-6"},
    "unit_runs": {"en": "runs", "nb": "kjøringer"},
    # ------------------------------------------------------------------ starting points
    "preset_baseline": {
        "en": "Today's practice (standard follow-up)",
        "nb": "Dagens praksis (ordinær oppfølging)",
    },
    "preset_ips": {"en": "IPS job specialists", "nb": "IPS med jobbspesialister"},
    "preset_ips_caseload_10": {"en": "IPS, 10 per specialist", "nb": "IPS, 10 per veileder"},
    "preset_ips_caseload_15": {"en": "IPS, 15 per specialist", "nb": "IPS, 15 per veileder"},
    "preset_ips_caseload_20": {"en": "IPS, 20 per specialist", "nb": "IPS, 20 per veileder"},
    "preset_ips_caseload_23": {"en": "IPS, 23 per specialist", "nb": "IPS, 23 per veileder"},
    "preset_ips_caseload_30": {"en": "IPS, 30 per specialist", "nb": "IPS, 30 per veileder"},
    "preset_ips_with_subsidy": {
        "en": "IPS with a 40 % wage subsidy",
        "nb": "IPS med 40 % lønnstilskudd",
    },
    "preset_low_language_cohort": {
        "en": "A cohort with little Norwegian",
        "nb": "Et kull med lite norsk",
    },
    "preset_raskt_i_jobb": {
        "en": "Raskt i jobb (IPS on top of usual follow-up)",
        "nb": "Raskt i jobb (IPS i tillegg til vanlig oppfølging)",
    },
    "preset_se": {"en": "Supported Employment, 20 per specialist", "nb": "SE, 20 per veileder"},
    "preset_slack_labour_market": {
        "en": "Weak labour market (7 % unemployed)",
        "nb": "Svakt arbeidsmarked (7 % ledige)",
    },
    "preset_tight_labour_market": {
        "en": "Strong labour market (2.5 % unemployed)",
        "nb": "Sterkt arbeidsmarked (2,5 % ledige)",
    },
    "preset_wage_subsidy_40": {
        "en": "40 % wage subsidy for everyone",
        "nb": "40 % lønnstilskudd for alle",
    },
    "preset_wage_subsidy_60": {
        "en": "60 % wage subsidy for reduced work capacity",
        "nb": "60 % lønnstilskudd ved nedsatt arbeidsevne",
    },
    # ------------------------------------------------------------------ watch one run
    "watch_intro": {
        "en": "One run of your settings, week by week. Each square is one participant.",
        "nb": "Én kjøring med dine valg, uke for uke. Hver rute er én deltaker.",
    },
    "play": {"en": "Play", "nb": "Spill av"},
    "pause": {"en": "Pause", "nb": "Pause"},
    "step": {"en": "Next week", "nb": "Neste uke"},
    "restart": {"en": "Start again", "nb": "Start på nytt"},
    "speed": {"en": "Speed", "nb": "Fart"},
    "weeks_per_second": {"en": "{n} weeks a second", "nb": "{n} uker i sekundet"},
    "watch_week": {"en": "Week {week} of {weeks}", "nb": "Uke {week} av {weeks}"},
    "chart_cohort": {"en": "The cohort this week", "nb": "Kullet denne uken"},
    "chart_counts": {"en": "The cohort so far", "nb": "Kullet så langt"},
    "participants": {"en": "participants", "nb": "deltakere"},
    # ------------------------------------------------------------------ export
    "export_intro": {
        "en": "Your settings as a complete scenario file: it holds every value, so it runs "
        "the same on any machine with introsim. To reproduce these numbers:",
        "nb": "Dine valg som en komplett scenariofil: den har alle verdiene, så den gir det "
        "samme på enhver maskin med introsim. Slik får du de samme tallene:",
    },
    "download": {"en": "Download the scenario file", "nb": "Last ned scenariofilen"},
    "download_reference": {
        "en": "Download the starting point",
        "nb": "Last ned utgangspunktet",
    },
    "download_members": {
        "en": "Download the sets of assumptions",
        "nb": "Last ned settene av antakelser",
    },
    "link": {"en": "Link that reopens these settings", "nb": "Lenke som åpner de samme valgene"},
}


SOURCES: dict[str, dict[str, str]] = {
    # Keyed by the schema's own words: when a source changes there, its translation is
    # missing until written here (a test checks every lever's source has one).
    "IPS-25 fidelity scale; Proba 2019. Plausible range across municipalities: assumption, "
    "from Proba's average of 15 to 35 (a programme advisor with a large caseload)": {
        "nb": "IPS-25-skalaen for metodetroskap; Proba 2019. Mulig spenn mellom kommuner: "
        "antakelse, fra Probas gjennomsnitt på 15 til 35 (en programrådgiver med mange "
        "deltakere)"
    },
    "NAV rules for lønnstilskudd (40 %; 60 % with reduced work capacity)": {
        "nb": "NAVs regler for lønnstilskudd (40 %; 60 % ved nedsatt arbeidsevne)"
    },
    "NAV rules (1 year; 2 with reduced work capacity)": {
        "nb": "NAVs regler (1 år; 2 ved nedsatt arbeidsevne)"
    },
    "Integration Act 2021; SSB": {"nb": "Integreringsloven 2021; SSB"},
    "SSB labour force survey, about 4 % in 2024": {
        "nb": "SSBs arbeidskraftundersøkelse, om lag 4 % i 2024"
    },
    "IMDi/Norstat 2017": {"nb": "IMDi/Norstat 2017"},
    "assumption (newly settled refugees start with little or no Norwegian)": {
        "nb": "antakelse (nybosatte flyktninger begynner med lite eller ingen norsk)"
    },
}
"""Sources of the levers' defaults, as the schema writes them, in other languages."""


def source(text: str, lang: str) -> str:
    """A schema source in ``lang`` (the schema's own words where there is no translation)."""
    return SOURCES.get(text, {}).get(lang, text)


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


def preset_label(name: str, lang: str) -> str:
    """A starting point's name for people: a shipped preset's own words, else its file name."""
    entry = TEXT.get(f"preset_{name}")
    return entry.get(lang, entry[DEFAULT_LANGUAGE]) if entry else name


def quoted(text: str, lang: str) -> str:
    """A name in the language's quotation marks: «…» in bokmål, “…” in English."""
    return f"«{text}»" if lang == "nb" else f"“{text}”"


def number(value: float, lang: str, decimals: int = 1, signed: bool = False) -> str:
    """A number in the language's style: ``12 345,6`` in bokmål, ``12 345.6`` in English.

    The style is the reports' (:func:`introsim.reporting.format.localise`): thousands
    grouped by a space (a narrow no-break space in bokmål), true minus signs, no
    ``−0,0``. NaN (nothing to show) is a dash.
    """
    if value != value:
        return MISSING
    if round(value, decimals) == 0:
        value = 0.0
    text = f"{value:{'+' if signed else ''},.{decimals}f}".replace(",", " ")
    return localise(text, lang).replace("-", MINUS)


def percent(share: float, lang: str, decimals: int = 1, signed: bool = False) -> str:
    """A share 0-1 as a percentage, e.g. ``52,8 %`` in bokmål (a lever's value, the target)."""
    return number(100 * share, lang, decimals, signed) + (GLUE if lang == "nb" else " ") + "%"


def seconds(value: float, lang: str) -> str:
    """A duration, e.g. ``1,41 s``."""
    return number(value, lang, 2) + (GLUE if lang == "nb" else " ") + "s"


def plain(value: float, lang: str) -> str:
    """A lever's value without needless decimals (``12``, ``0,5``, ``37,5``), for input boxes."""
    if value != value or math.isinf(value):
        return str(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "nb" else text


def plotly_separators(lang: str) -> str:
    """Plotly's ``layout.separators``: the decimal mark, then the thousands separator."""
    return ("," if lang == "nb" else ".") + (THOUSANDS_NB if lang == "nb" else " ")
