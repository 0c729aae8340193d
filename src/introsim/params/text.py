"""Text a user wrote: names must be plain, any other text is shown with its hidden characters.

Some characters change how text looks without being seen: control characters
(escape sequences recolour a terminal), format characters such as a right-to-left
override (U+202E reverses what follows) or a zero-width space (U+200B makes two
names that look the same differ), and spaces other than the ordinary one. A
*name* (of a scenario, sector, study, target or design point) becomes a column,
a folder, a chart legend and a table row, so :func:`check_name` refuses these
characters in names. Every other text a user wrote (descriptions, questions,
file names, values) is accepted and passed through :func:`visible` wherever it
is shown: the terminal, reports and CSV files.
"""

from __future__ import annotations

import unicodedata

__all__ = ["check_name", "hidden_characters", "visible"]

_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
"""Unicode categories that do not show as themselves: control, format, surrogate,
private-use, unassigned, line and paragraph separators and spaces (U+0020 aside)."""


def _hidden(char: str) -> bool:
    return char != " " and unicodedata.category(char) in _HIDDEN


def _escape(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


def hidden_characters(text: str) -> list[str]:
    """The characters of ``text`` that do not show as themselves, each once, in order."""
    return list(dict.fromkeys(c for c in text if _hidden(c)))


def visible(text: object) -> str:
    r"""``text`` with every hidden character written as its escape: ``\u202e``, ``\x1b``."""
    return "".join(_escape(c) if _hidden(c) else c for c in str(text))


def check_name(text: str) -> str:
    """Return a name unchanged, or refuse one that does not look like what it holds.

    Args:
        text: The name.

    Returns:
        ``text``.

    Raises:
        ValueError: It holds a control, format or invisible character, or is not in
            Unicode's composed form (NFC), so another name could look the same.
    """
    hidden = hidden_characters(text)
    if hidden:
        control = all(unicodedata.category(c) == "Cc" for c in hidden)
        kind = "control characters" if control else "invisible, format or control characters"
        named = ", ".join(
            f"{_escape(c)} ({unicodedata.name(c, unicodedata.category(c))})" for c in hidden
        )
        raise ValueError(f"a name without {kind}, found {named} in {visible(text)!r}")
    if unicodedata.normalize("NFC", text) != text:
        raise ValueError(
            f"a name in composed Unicode form (NFC; an accent written as a separate "
            f"character looks the same as the accented letter), found {visible(text)!r}"
        )
    return text
