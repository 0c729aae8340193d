"""English words that must not appear on the dashboard in bokmål.

The list is made from the dashboard's own English texts (every English word of
``introsim.app.i18n.TEXT`` that no bokmål text also uses), plus the words the
libraries under the page could show on their own (Solara, Vuetify, plotly):
"Loading", "No data available", a toolbar's "Zoom" and "Autoscale", and so on.
Names that are the same in both languages are allowed: the methods' names
(IPS, Supported Employment), the language picker's "English", the sources'
institutions and the programme's own name.
"""

from __future__ import annotations

import re

from introsim.app.i18n import SOURCES, TEXT

ALLOWED: frozenset[str] = frozenset(
    {
        "ips",
        "supported",
        "employment",
        "se",
        "english",
        "introsim",
        "png",
        "nav",
        "ssb",
        "imdi",
        "norstat",
        "proba",
        "a1",
        "b1",
    }
)
"""Names, not English: they read the same in a bokmål text."""

LIBRARY_WORDS: frozenset[str] = frozenset(
    """loading resources app no data available download plot zoom pan autoscale reset axes
    toggle spike lines show closest compare hover produced with plotly close menu search
    select all items page of next previous this website runs on solara made with
    error traceback file line""".split()
)
"""Words the page's libraries show by themselves when left to their defaults."""

FORMERLY_SEEN: frozenset[str] = frozenset("reset step play replicates baseline updated".split())
"""English words once seen on the bokmål page (buttons, a preset's file name, the timing)."""

_WORD = re.compile(r"[A-Za-zÆØÅæøå]+")


def words(text: str) -> set[str]:
    """The words of a text, lower case (numbers and symbols left out)."""
    return {w.lower() for w in _WORD.findall(text)}


def english_words() -> set[str]:
    """English words that no bokmål text of the dashboard uses, plus the libraries' own."""
    english: set[str] = set()
    norwegian: set[str] = set()
    for entry in TEXT.values():
        english |= words(entry["en"].format_map(_Blank()))
        norwegian |= words(entry.get("nb", "").format_map(_Blank()))
    for text, translations in SOURCES.items():
        english |= words(text)
        norwegian |= words(translations.get("nb", ""))
    return ((english - norwegian) | LIBRARY_WORDS | FORMERLY_SEEN) - ALLOWED


class _Blank(dict):
    """Placeholders read as nothing (only a text's own words count)."""

    def __missing__(self, key: str) -> str:
        return ""
