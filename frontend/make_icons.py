"""Draws the installable app's PNG icons (``icon-192.png``, ``icon-512.png``) from
``icon.svg``, which a phone's home screen and Chrome's install check need as bitmaps.

The PNGs are checked in beside the SVG (and counted in the bundle hash); run this after
changing the SVG: ``.venv/bin/python -m frontend.make_icons``. It renders the SVG in
Debian's Chromium through Playwright (the test extra), which the server never imports.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "static" / "frontend"
SIZES = (192, 512)


def main() -> int:
    from playwright.sync_api import sync_playwright

    svg = (HERE / "icon.svg").read_text(encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for size in SIZES:
            page = browser.new_page(viewport={"width": size, "height": size})
            sized = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            page.set_content(
                "<style>html,body{margin:0;background:transparent}svg{display:block}</style>"
                + sized
            )
            path = HERE / f"icon-{size}.png"
            page.screenshot(path=str(path), omit_background=True)
            sys.stdout.write(f"{path.relative_to(HERE.parents[1])}\n")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
