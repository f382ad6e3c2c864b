"""Debian's Chromium as the browser tests and the sign-in benchmark launch it, headless:
no sandbox (the machines run as root), no GPU, and nothing of its own on the network."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
