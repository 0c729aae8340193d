"""Settings out of the dashboard and back in: a scenario file, and a link.

The file ``extends`` the preset and holds only the levers that differ from it,
so ``introsim run`` and ``introsim compare`` accept it and it reads as the
workshop's change. The link carries the same settings as URL parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from introsim.app.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from introsim.app.levers import BY_PATH, LEVER_PATHS, LeverError, parse
from introsim.output import toml_value
from introsim.params.schema import Scenario

WHATIF_SUFFIX = "_whatif"
"""Appended to the preset's name to name the exported scenario (names must differ to compare)."""

PRESET_KEY, LANG_KEY, REPLICATIONS_KEY, PROJECTOR_KEY = (
    "preset",
    "lang",
    "replications",
    "projector",
)


def scenario_toml(
    preset_path: Path,
    preset: Scenario,
    settings: Mapping[str, Any],
    replications: int,
) -> str:
    """The settings as a scenario file extending the preset.

    Args:
        preset_path: The preset's file (written as an absolute ``extends`` path, so the
            exported file works wherever it is saved on this machine).
        preset: The preset as loaded.
        settings: Lever paths mapped to values that differ from the preset.
        replications: Replicates the dashboard used (for the reproduce command).

    Returns:
        TOML text.
    """
    name = preset.scenario.name + WHATIF_SUFFIX
    changes = ", ".join(f"{p} = {toml_value(v)}" for p, v in settings.items()) or "no change"
    lines = [
        f"# Exported from the introsim dashboard: {preset.scenario.name} with {changes}.",
        "# Reproduce the dashboard's numbers:",
        f"#   {reproduce_command(preset_path, Path(name + '.toml'), replications)}",
        f"extends = {toml_value(str(preset_path.resolve()))}",
        "",
        "[scenario]",
        f"name = {toml_value(name)}",
        f"description = {toml_value(f'{preset.scenario.name} with {changes}')}",
    ]
    by_section: dict[str, list[str]] = {}
    for path in LEVER_PATHS:
        if path in settings:
            section, key = path.rsplit(".", 1)
            by_section.setdefault(section, []).append(f"{key} = {toml_value(settings[path])}")
    for section, rows in by_section.items():
        lines += ["", f"[{section}]", *rows]
    return "\n".join(lines) + "\n"


def reproduce_command(preset_path: Path, exported: Path, replications: int) -> str:
    """The ``introsim compare`` command giving the dashboard's numbers for an exported file."""
    return f"introsim compare {preset_path} {exported} --replications {replications}"


@dataclass
class LinkSettings:
    """What a link (URL parameters) asks for; anything it could not use is in ``problems``."""

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
    params += [(p, str(settings[p])) for p in LEVER_PATHS if p in settings]
    params += [(LANG_KEY, lang), (REPLICATIONS_KEY, str(replications))]
    if projector:
        params.append((PROJECTOR_KEY, "1"))
    return urlencode(params, safe=".")


def parse_link(query: str, lang: str = DEFAULT_LANGUAGE) -> LinkSettings:
    """Read URL parameters; values out of bounds or unknown keys become ``problems``, not errors."""
    out = LinkSettings()
    for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if key == PRESET_KEY:
            out.preset = value
        elif key == LANG_KEY:
            if value in LANGUAGES:
                out.lang = value
            else:
                choices = ", ".join(LANGUAGES)
                out.problems.append(
                    f"{key}: {t('expected_choice', lang, choices=choices, found=value)}"
                )
        elif key == REPLICATIONS_KEY:
            if re.fullmatch(r"\d+", value) and int(value) >= 2:
                out.replications = int(value)
            else:
                out.problems.append(
                    f"{key}: {t('expected_range', lang, low=2, high='∞', unit='', found=value)}"
                )
        elif key == PROJECTOR_KEY:
            out.projector = value not in ("", "0", "false")
        elif key in BY_PATH:
            lever = BY_PATH[key]
            try:
                out.settings[key] = parse(lever, value, lang)
            except LeverError as e:
                out.problems += [f"{lever.label(lang)}: {p.message}" for p in e.problems]
        else:
            out.problems.append(f"{key}: ?")
    return out
