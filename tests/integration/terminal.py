"""The chat as a person sees it: ``confide-chat`` in a pseudo-terminal (pexpect), its
output drawn on an emulated screen (pyte), read the way a person reads it.

A thread reads the terminal all the time, so the program never blocks on a full pty, and
the test waits for what appears on the screen with ``await``, so that the peers it runs
in the same event loop go on meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pexpect
import pyte

from harness.servers import ROOT
from tests.authenticator import next_code
from tests.personas import LivePersona

ROWS, COLUMNS = 30, 120


class Terminal:
    def __init__(self, args: Sequence[str], home: Path, env: dict[str, str] | None = None) -> None:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CONFIDE_"))
        }
        environment.update(
            HOME=str(home),
            XDG_STATE_HOME=str(home / "state"),
            TERM="xterm",
            **(env or {}),
        )
        self.screen = pyte.HistoryScreen(COLUMNS, ROWS, history=2000)
        self._stream = pyte.Stream(self.screen)
        self._lock = threading.Lock()
        # pexpect reaps the child (waitpid) both in read_nonblocking, at the end of output,
        # and in isalive; from two threads at once, one of them finds no child left.
        self._child_lock = threading.Lock()
        self._transcript: list[str] = []
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "confide_client.cli", *args],
            cwd=str(ROOT),
            env=environment,
            encoding="utf-8",
            dimensions=(ROWS, COLUMNS),
            timeout=5,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                with self._child_lock:
                    data = self.child.read_nonblocking(65536, timeout=0.1)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError, ValueError):
                return
            with self._lock:
                self._transcript.append(data)
                self._stream.feed(data)
                if "\x1b[6n" in data:
                    # Answer the cursor-position query as a terminal would: prompt_toolkit
                    # needs the answer to lay out its status line below the input.
                    row, column = self.screen.cursor.y + 1, self.screen.cursor.x + 1
                    self.child.send(f"\x1b[{row};{column}R")

    # --- what a person sees -----------------------------------------------------------

    def lines(self) -> list[str]:
        """Every line shown so far, scrolled-away ones included, without trailing space."""
        with self._lock:
            history = ["".join(c.data for c in line.values()) for line in self.screen.history.top]
            shown = list(self.screen.display)
        return [line.rstrip() for line in [*history, *shown]]

    def text(self) -> str:
        return "\n".join(self.lines())

    def transcript(self) -> str:
        """Everything the program wrote, as written (escape sequences included)."""
        with self._lock:
            return "".join(self._transcript)

    def bottom(self) -> str:
        """The last line drawn: the chat's status line."""
        lines = [line for line in self.lines() if line.strip()]
        return lines[-1] if lines else ""

    async def shows(self, text: str, timeout: float = 15.0) -> None:
        """Waits until ``text`` is on the screen (or was and scrolled away)."""
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if not self.alive() and text not in self.text():
                raise AssertionError(f"the chat ended before showing {text!r}:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not shown within {timeout} s:\n{self.text()}")
            await asyncio.sleep(0.05)

    async def matches(self, pattern: re.Pattern[str], timeout: float = 15.0) -> re.Match[str]:
        """Waits until ``pattern`` matches what is shown; returns the match."""
        deadline = time.monotonic() + timeout
        while (found := pattern.search(self.text())) is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{pattern.pattern!r} not shown in {timeout} s:\n{self.text()}"
                )
            await asyncio.sleep(0.05)
        return found

    async def count(self, text: str, settle: float = 0.5) -> int:
        """How many shown lines hold ``text``, once nothing new has arrived for ``settle``."""
        await asyncio.sleep(settle)
        return sum(1 for line in self.lines() if text in line)

    # --- what a person does ------------------------------------------------------------

    def type(self, text: str) -> None:
        self.child.send(text)

    def enter(self, text: str = "") -> None:
        self.child.send(text + "\r")

    def interrupt(self) -> None:
        self.child.sendcontrol("c")

    def alive(self) -> bool:
        with self._child_lock:
            return bool(self.child.isalive())

    async def exit_code(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the chat did not end within {timeout} s:\n{self.text()}")
            await asyncio.sleep(0.05)
        code = self.child.exitstatus
        return int(code) if code is not None else 128 + int(self.child.signalstatus or 0)

    def close(self) -> None:
        if self.alive():
            with self._child_lock:
                self.child.terminate(force=True)


async def signed_in_chat(
    url: str, persona: LivePersona, home: Path, terminals: list[Terminal]
) -> Terminal:
    """``confide-chat --email`` signed in at ``url``, its state folder in ``home``; the
    terminal goes into ``terminals`` (the fixture of that name closes them)."""
    email = persona.email
    chat = Terminal(["--url", url, "--email", email, "--state", str(home / "confide")], home)
    terminals.append(chat)
    await chat.shows(f"Password for {email} at {url}")
    chat.enter(persona.password)
    if persona.totp_secret is not None:
        await chat.shows("Code from your authenticator app")
        chat.enter(next_code(persona.totp_secret))
    await chat.shows("Type /help for the commands.")
    return chat
