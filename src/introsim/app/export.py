"""Settings out of the dashboard and back in: complete scenario files, and a link.

An exported scenario holds every value of the scenario (no ``extends``), so it
runs the same on any machine with introsim, whatever its presets or defaults.
A what-if over a posterior ensemble also exports the members it ran over, as an
ensemble file of their own, so ``introsim compare --ensemble`` gives the same numbers.
The link carries the accepted settings as URL parameters; reading one puts
every value through the levers' own validation (:func:`introsim.app.levers.read`
and :func:`~introsim.app.levers.accept`), with the same limits as the controls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from introsim.app.i18n import DEFAULT_LANGUAGE, LANGUAGES, t, unit
from introsim.app.levers import (
    BY_PATH,
    LEVER_PATHS,
    REPLICATIONS,
    LeverError,
    accept,
    excerpt,
    read,
)
from introsim.output import toml_value
from introsim.params.schema import Scenario

if TYPE_CHECKING:
    from introsim.params.ensemble_file import Ensemble

WHATIF_SUFFIX = "_whatif"
"""Appended to the preset's name to name the exported scenario (names must differ to compare)."""

PRESET_KEY, LANG_KEY, REPLICATIONS_KEY, PROJECTOR_KEY = (
    "preset",
    "lang",
    "replications",
    "projector",
)
MAX_LINK_FIELDS = 40
"""Most parameters a link may hold (the dashboard writes at most 16)."""
MAX_QUERY = 20_000
"""Longest query string read; the rest is left out (the dashboard's links are a few hundred
characters, and each value is limited to a few dozen by the levers' own check)."""

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else toml_value(name)


def _toml(value: Any) -> str:
    """A value of a scenario as TOML: scalars, arrays, and inline tables inside arrays."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return toml_value(value)


def _tables(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Nested dicts as TOML tables: a table's values first, then its sub-tables."""
    lines = [f"[{prefix}]"] if prefix else []
    lines += [f"{_key(k)} = {_toml(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += ["", *_tables(v, f"{prefix}.{_key(k)}" if prefix else _key(k))]
    return lines


def complete_toml(scenario: Scenario, name: str, description: str, head: Iterable[str]) -> str:
    """A scenario file holding every value of ``scenario``, under a new name.

    Args:
        scenario: The validated scenario.
        name: Its ``[scenario] name`` in the file.
        description: Its ``[scenario] description``.
        head: Comment lines for the top of the file (without ``#``).

    Returns:
        TOML text that loads as the same scenario (apart from name and description).
    """
    data = scenario.model_dump(mode="python", exclude_none=True)
    data["scenario"] = {**data["scenario"], "name": name, "description": description}
    return "\n".join([*(f"# {h}".rstrip() for h in head), "", *_tables(data)]) + "\n"


MEMBERS_FILE = "posterior_members.toml"
"""The file the members of a what-if over a posterior ensemble are exported to."""


def reproduce_command(
    reference_file: str, exported_file: str, replications: int, members_file: str | None = None
) -> str:
    """The ``introsim compare`` command giving the dashboard's numbers from the files.

    Args:
        reference_file: The starting point's file.
        exported_file: The what-if's file.
        replications: Replicates per scenario (per member over an ensemble).
        members_file: The exported members of a what-if over an ensemble, or None.
    """
    command = f"introsim compare {reference_file} {exported_file} --replications {replications}"
    return command + (f" --ensemble {members_file}" if members_file else "")


def members_toml(ensemble: Ensemble, members: Sequence[int], head: Iterable[str]) -> str:
    """The members a what-if ran over as an ensemble file: one ``[[member]]`` table each."""
    lines = [*(f"# {h}".rstrip() for h in head)]
    for k in members:
        lines += ["", "[[member]]", f"# {ensemble.labels[k]} of {ensemble.path.name}"]
        lines += [f"{_key(path)} = {_toml(v)}" for path, v in ensemble.members[k].items()]
    return "\n".join(lines) + "\n"


def export_files(
    preset: Scenario,
    chosen: Scenario,
    settings: Mapping[str, Any],
    replications: int,
    ensemble: Ensemble | None = None,
    members: Sequence[int] = (),
) -> dict[str, str]:
    """The starting point and the what-if as complete scenario files, by file name.

    Both files stand alone; ``introsim compare`` on the two, in this order, with the
    dashboard's number of runs, gives the dashboard's numbers. Over a posterior ensemble
    a third file holds the members the what-if ran over, and the command names it.

    Args:
        preset: The starting point.
        chosen: The starting point with the settings.
        settings: The settings (lever paths, stored units).
        replications: Replicates per scenario (per member over an ensemble).
        ensemble: The posterior ensemble the what-if ran over, or None.
        members: The members of ``ensemble`` it used.
    """
    base_name = preset.scenario.name
    whatif_name = base_name + WHATIF_SUFFIX
    files = {"reference": f"{base_name}.toml", "whatif": f"{whatif_name}.toml"}
    over = ensemble is not None and bool(members)
    command = reproduce_command(
        files["reference"], files["whatif"], replications, MEMBERS_FILE if over else None
    )
    changes = ", ".join(f"{p} = {toml_value(v)}" for p, v in settings.items()) or "no change"
    need = f"the other two exported files ({MEMBERS_FILE} for the assumptions)" if over else ""
    common = [
        "Every value is written out: this file needs no other file and no `extends`.",
        f"Reproduce the dashboard's numbers with {need or 'both exported files'}:",
        f"  {command}",
    ]
    out = {
        files["reference"]: complete_toml(
            preset,
            base_name,
            preset.scenario.description,
            [f"Exported from the introsim dashboard: the starting point {base_name!r}.", *common],
        ),
        files["whatif"]: complete_toml(
            chosen,
            whatif_name,
            f"{base_name} with {changes}",
            [f"Exported from the introsim dashboard: {base_name} with {changes}.", *common],
        ),
    }
    if over:
        assert ensemble is not None
        out[MEMBERS_FILE] = members_toml(
            ensemble,
            members,
            [
                f"Exported from the introsim dashboard: {len(members)} of the {ensemble.size} "
                f"plausible parameter sets of {ensemble.path.name}, the ones its what-if ran "
                f"over, each with {replications} replicates.",
                "Reproduce the dashboard's numbers with the three exported files:",
                f"  {command}",
            ],
        )
    return out


@dataclass
class LinkSettings:
    """What a link asks for, every value validated; what could not be used is in ``problems``."""

    preset: str | None = None
    lang: str | None = None
    replications: int | None = None
    projector: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def link_query(
    preset: str, settings: Mapping[str, Any], lang: str, replications: int, projector: bool
) -> str:
    """URL parameters that reopen these settings, e.g. ``preset=ips&follow_up.caseload=15``."""
    params: list[tuple[str, str]] = [(PRESET_KEY, preset)]
    params += [(p, toml_value(settings[p]).strip('"')) for p in LEVER_PATHS if p in settings]
    params += [(LANG_KEY, lang), (REPLICATIONS_KEY, str(replications))]
    if projector:
        params.append((PROJECTOR_KEY, "1"))
    return urlencode(params, safe=".")


def parse_link(
    query: str,
    presets: Iterable[str],
    load: Callable[[str], Scenario],
    start: str,
    lang: str = DEFAULT_LANGUAGE,
) -> LinkSettings:
    """Read a link's parameters; nothing in it can raise, and nothing unchecked gets through.

    Each lever value goes through the same validation as the control (its kind, its
    limits, then the whole scenario with it), in the schema's units; the number of runs
    is limited as the slider is. What is refused is named in ``problems`` and left out.

    Args:
        query: The URL's query string (with or without ``?``).
        presets: The starting points this server offers.
        load: Loads a starting point by name.
        start: The starting point when the link names none (or an unknown one).
        lang: Language of the problems when the link names none.

    Returns:
        The accepted values and the problems.
    """
    out = LinkSettings()
    text = query.lstrip("?")
    if len(text) > MAX_QUERY:
        out.problems.append(t("too_long", lang, n=len(text)))
        text = text[:MAX_QUERY].rsplit("&", 1)[0]
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_LINK_FIELDS)
    except ValueError:
        pairs = parse_qsl(text, keep_blank_values=True)[:MAX_LINK_FIELDS]
        out.problems.append(t("too_many", lang, n=MAX_LINK_FIELDS))
    values = dict(pairs)
    if LANG_KEY in values:
        if values[LANG_KEY] in LANGUAGES:
            out.lang = values[LANG_KEY]
        else:
            choices = ", ".join(LANGUAGES)
            found = excerpt(values[LANG_KEY])
            out.problems.append(
                f"{LANG_KEY}: {t('expected_choice', lang, choices=choices, found=found)}"
            )
    lang = out.lang or lang
    names = list(presets)
    if PRESET_KEY in values:
        if values[PRESET_KEY] in names:
            out.preset = values[PRESET_KEY]
        else:
            out.problems.append(t("unknown_preset", lang, found=excerpt(values[PRESET_KEY])))
    base = load(out.preset or start)
    if REPLICATIONS_KEY in values:
        try:
            out.replications = read(REPLICATIONS, values[REPLICATIONS_KEY], lang)
        except LeverError as e:
            label = t("replications", lang)
            out.problems += [f"{label} ({unit('runs', lang)}): {p.message}" for p in e.problems]
    if PROJECTOR_KEY in values:
        out.projector = values[PROJECTOR_KEY].lower() in ("1", "true", "yes", "on")
    for path in LEVER_PATHS:  # in lever order, each checked with those accepted before it
        if path not in values:
            continue
        try:
            out.settings = accept(base, out.settings, path, values[path], lang, shown=False)
        except LeverError as e:
            out.problems += [f"{BY_PATH[path].label(lang)}: {p.message}" for p in e.problems]
    known = {PRESET_KEY, LANG_KEY, REPLICATIONS_KEY, PROJECTOR_KEY, *LEVER_PATHS}
    for key in values:
        if key not in known:
            out.problems.append(t("unknown_key", lang, name=excerpt(key)))
    return out
