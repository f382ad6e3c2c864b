"""The terminal of the chat: one input line that output never breaks, and a status line.

On a terminal, prompt_toolkit draws the input line and keeps it whole while other tasks
write above it (``patch_stdout``); the bottom toolbar says whether the connection is up
and what waits to be sent. Without a terminal (input from a pipe, as in scripts), lines are
read and written plainly, and each change of the status is written as a line of its own.
Everything the chat shows goes through :meth:`Screen.say`, which shows control characters
as visible codes (``confide_client.cli.text``): no text of another person or of the server
reaches the terminal as a command to it.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.patch_stdout import patch_stdout

from confide_client.cli.text import printable

__all__ = ["PlainScreen", "Screen", "TerminalScreen", "make_screen"]


class Screen:
    """What the chat needs of a terminal. ``status`` gives the status line's text."""

    def __init__(self, status: Callable[[], str]) -> None:
        self.status = status

    def active(self) -> AbstractContextManager[object]:
        """While this holds, what is said goes above the input line, not through it."""
        return nullcontext()

    def say(self, line: str) -> None:
        print(printable(line), flush=True)

    def status_changed(self) -> None:
        """The status may have changed (a terminal redraws it by itself)."""

    async def ask(self, prompt: str = "> ", *, secret: bool = False) -> str:
        """One typed line; ``EOFError`` at the end of input, ``KeyboardInterrupt`` on
        Ctrl-C."""
        raise NotImplementedError


class TerminalScreen(Screen):
    def __init__(self, status: Callable[[], str]) -> None:
        super().__init__(status)
        self._session: PromptSession[str] = PromptSession(
            bottom_toolbar=self._toolbar, refresh_interval=0.5
        )

    def _toolbar(self) -> FormattedText:
        status = printable(self.status()).replace("\n", " ")
        return FormattedText([("", f" {status} ")])

    def active(self) -> AbstractContextManager[object]:
        # Not raw: prompt_toolkit too writes escape characters it is given as "?".
        return patch_stdout()

    def status_changed(self) -> None:
        app = self._session.app
        if app.is_running:
            app.invalidate()

    async def ask(self, prompt: str = "> ", *, secret: bool = False) -> str:
        return await self._session.prompt_async(prompt, is_password=secret)


class PlainScreen(Screen):
    """Lines from standard input, read by a daemon thread: a blocked read never keeps the
    program from ending (as a worker of the event loop's executor would, after Ctrl-C)."""

    def __init__(self, status: Callable[[], str]) -> None:
        super().__init__(status)
        self._lines: asyncio.Queue[str] | None = None
        self._last_status = ""

    def status_changed(self) -> None:
        text = self.status()
        if text != self._last_status:
            self._last_status = text
            self.say(f"-- {text}")

    async def ask(self, prompt: str = "> ", *, secret: bool = False) -> str:
        if self._lines is None:
            self._lines = _read_lines_in_background()
        line = await self._lines.get()
        if not line:
            raise EOFError
        return line.rstrip("\n")


def make_screen(status: Callable[[], str]) -> Screen:
    if sys.stdin.isatty() and sys.stdout.isatty():
        return TerminalScreen(status)
    return PlainScreen(status)


def _read_lines_in_background() -> asyncio.Queue[str]:
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = sys.stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the chat has ended
                return
            if not line:
                return

    threading.Thread(target=pump, name="confide-chat-input", daemon=True).start()
    return lines
