"""Text from others as it may reach the terminal.

A message's text, a name, an agreement's paragraphs and a server's error messages come
from other people or from the server, and a terminal obeys the control characters in what
it is given: an escape sequence in a message could set the window's title, write the
clipboard (OSC 52), erase or redraw lines, and a carriage return or a bidirectional
override could make a forged line look like one of the chat's own (a fake ``you:`` line, a
fake safety number). So everything shown goes through :func:`printable`, which shows such
characters as visible codes (``<U+001B>``) and keeps only the line break, whose next line
it indents: a message of several lines reads as one message, and no text can start a line
that passes for one of the chat's own. The chat says its own lines one at a time.
"""

from __future__ import annotations

__all__ = ["printable"]

# Bidirectional embeddings, overrides and isolates, and the marks: they reorder what the
# terminal shows.
_BIDI = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
# Line and paragraph separators: some terminals break lines on them.
_SEPARATORS = frozenset([0x2028, 0x2029])
CONTINUATION = "    "


def _visible(character: str) -> str:
    code = ord(character)
    if character == "\n":
        return character
    if character == "\t":
        return " "
    if code < 0x20 or 0x7F <= code <= 0x9F or code in _BIDI or code in _SEPARATORS:
        return f"<U+{code:04X}>"
    return character


def printable(text: str) -> str:
    """``text`` with every control character but the line break (C0, DEL, C1), every
    bidirectional control and the Unicode line separators shown as ``<U+XXXX>``, a tab
    as a space, and the lines after a line break indented."""
    if not text.isprintable():
        text = "".join(_visible(character) for character in text)
    return text.replace("\n", "\n" + CONTINUATION)
