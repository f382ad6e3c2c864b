"""What the chat shows of others' text (``confide_client.cli.text.printable``): control
characters, bidirectional controls and line separators become visible codes, a tab a
space, and a line break starts an indented line, so that no text commands the terminal
or passes for a line of the chat's own."""

from __future__ import annotations

import pytest

from confide_client.cli.screen import PlainScreen
from confide_client.cli.text import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Plain text, ünïcödé and emoji 👩‍⚕️", "Plain text, ünïcödé and emoji 👩‍⚕️"),
        ("\x1b]52;c;Y29weQ==\x07", "<U+001B>]52;c;Y29weQ==<U+0007>"),
        ("\x1b[2K\rfake", "<U+001B>[2K<U+000D>fake"),
        ("C1 \x9b31m and DEL \x7f", "C1 <U+009B>31m and DEL <U+007F>"),
        (
            "\u202eevil\u202c \u2066x\u2069 \u200f",
            "<U+202E>evil<U+202C> <U+2066>x<U+2069> <U+200F>",
        ),
        ("line\u2028sep\u2029para", "line<U+2028>sep<U+2029>para"),
        ("a\tb", "a b"),
        ("first\n2026-01-01 09:00 you: forged", "first\n    2026-01-01 09:00 you: forged"),
    ],
)
def test_text_is_shown_and_never_obeyed(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_what_the_screen_says_goes_through_it(capsys: pytest.CaptureFixture[str]) -> None:
    PlainScreen(lambda: "").say("Dr. Dana Demo: hi\x1b]0;title\x07\nyou: forged")
    assert capsys.readouterr().out == "Dr. Dana Demo: hi<U+001B>]0;title<U+0007>\n    you: forged\n"
