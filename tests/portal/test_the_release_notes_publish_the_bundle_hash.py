"""The release notes' newest entry names the web client's bundle as this checkout serves it,
so that a release that changes what browsers run says so."""

from __future__ import annotations

import re
from pathlib import Path

from frontend import bundle

ROOT = Path(__file__).resolve().parents[2]


def test_the_newest_release_names_the_bundle_served() -> None:
    notes = (ROOT / "docs" / "releases.md").read_text(encoding="utf-8")
    entries = re.split(r"^## ", notes, flags=re.MULTILINE)[1:]
    assert entries, "docs/releases.md has no release"
    published = re.search(r"bundle sha256: ([0-9a-f]{64})", entries[0])
    assert published, "the newest release names no bundle hash"
    assert published.group(1) == bundle.bundle_hash(), (
        "the web client changed: put `python -m frontend.bundle`'s hash in the newest entry "
        "of docs/releases.md, and say what changed"
    )


def test_every_release_says_whether_its_bundle_changed() -> None:
    notes = (ROOT / "docs" / "releases.md").read_text(encoding="utf-8")
    for entry in re.split(r"^## ", notes, flags=re.MULTILINE)[1:]:
        bundle_line = re.search(r"bundle sha256: [0-9a-f]{64}\s*\((changed|unchanged)", entry)
        assert bundle_line, entry.splitlines()[0]
