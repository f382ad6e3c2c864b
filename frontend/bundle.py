"""The client bundle: which files the browser runs, their Subresource Integrity hashes, and
one published hash over all of them.

A browser checks ``integrity`` on the entry script and on every module preloaded with
``<link rel="modulepreload" integrity=...>``; listing the entry's whole static import graph
that way means every module it runs is checked, not only the first. The bundle hash
(``python -m frontend.bundle``) is what docs/web-client.md publishes, so that anyone can
compare what a server serves with what the repository holds.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from functools import lru_cache
from pathlib import Path, PurePosixPath

STATIC_ROOT = Path(__file__).resolve().parent / "static"
BUNDLE_ROOT = STATIC_ROOT / "frontend"
ENTRY = "frontend/src/app/main.js"

# Static imports and re-exports: `import x from './a.js'`, `export {y} from "./b.js"`,
# `import './c.js'`. Minified vendor code is matched too (no space before the quote).
_IMPORT = re.compile(
    r"""(?:\bimport|\bexport)\b[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1|\bimport\s*(['"])([^'"]+)\3"""
)


def _read(path: str) -> bytes:
    return (STATIC_ROOT / path).read_bytes()


@lru_cache(maxsize=256)
def _sri_cached(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha384(_read(path)).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def sri(path: str) -> str:
    """``sha384-...`` of a static file under frontend/static (recomputed when it changes)."""
    stat = (STATIC_ROOT / path).stat()
    return _sri_cached(path, stat.st_mtime_ns, stat.st_size)


def module_graph(entry: str = ENTRY) -> list[str]:
    """Every module the entry imports, directly or not (static paths), entry excluded,
    in a stable order."""
    seen: set[str] = {entry}
    order: list[str] = []
    pending = [entry]
    while pending:
        current = pending.pop(0)
        text = _read(current).decode("utf-8")
        for match in _IMPORT.finditer(text):
            specifier = match.group(2) or match.group(4)
            if not specifier or not specifier.startswith(("./", "../")):
                continue
            resolved = _resolve(current, specifier)
            if resolved is None or resolved in seen:
                continue
            seen.add(resolved)
            order.append(resolved)
            pending.append(resolved)
    return order


def _resolve(importer: str, specifier: str) -> str | None:
    parts: list[str] = []
    for part in (PurePosixPath(importer).parent / specifier).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    resolved = "/".join(parts)
    return resolved if (STATIC_ROOT / resolved).is_file() else None


def manifest() -> list[tuple[str, str]]:
    """(sha256 hex, path) of every file the browser may load, sorted by path."""
    rows = []
    for path in sorted(BUNDLE_ROOT.rglob("*")):
        if path.is_file():
            relative = path.relative_to(STATIC_ROOT).as_posix()
            rows.append((hashlib.sha256(path.read_bytes()).hexdigest(), relative))
    return rows


def bundle_hash() -> str:
    """SHA-256 of the manifest text (``<sha256>  <path>\\n`` per file, sorted by path)."""
    text = "".join(f"{digest}  {path}\n" for digest, path in manifest())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main() -> int:
    for digest, path in manifest():
        sys.stdout.write(f"{digest}  {path}\n")
    sys.stdout.write(f"bundle sha256: {bundle_hash()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
