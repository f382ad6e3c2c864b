"""What the server sends the browser is what the repository holds: every module of the
client carries a Subresource Integrity hash, the page has no inline script or style, and
the published bundle hash (docs/web-client.md) matches the files."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.test import Client

from frontend import bundle

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "frontend/static/frontend/src/app"
TAG = re.compile(r"<(script|link)\b([^>]*)>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')


def sha384(path: str) -> str:
    data = (bundle.STATIC_ROOT / path).read_bytes()
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/", "/invite"])
def test_every_module_and_stylesheet_is_loaded_with_integrity(client: Client, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    loaded: dict[str, str] = {}
    for tag, attributes in TAG.findall(html):
        attrs = dict(ATTRIBUTE.findall(attributes))
        url = attrs.get("src") or attrs.get("href", "")
        if tag == "script":
            assert url, "no inline script"
            assert attrs.get("type") == "module"
        if attrs.get("rel") in {"icon", "apple-touch-icon", "manifest"}:
            # No integrity for these in any browser; from this origin all the same.
            assert url.startswith("/") and not url.startswith("//"), f"same origin only: {url}"
            continue
        assert url.startswith("/static/"), f"same origin only: {url}"
        loaded[url.removeprefix("/static/")] = attrs.get("integrity", "")
    expected = {bundle.ENTRY, "frontend/portal.css", *bundle.module_graph()}
    assert set(loaded) == expected
    for path, integrity in loaded.items():
        assert integrity == sha384(path), path
    assert "<style" not in html.lower()
    assert " style=" not in html.lower()
    assert response.headers["Cache-Control"] == "no-store"


def test_the_module_graph_reaches_every_module_of_the_app() -> None:
    graph = set(bundle.module_graph())
    for path in APP.rglob("*.js"):
        relative = path.relative_to(bundle.STATIC_ROOT).as_posix()
        assert relative == bundle.ENTRY or relative in graph, relative
    assert "frontend/vendor/libsodium/libsodium-sumo.mjs" in graph


def test_the_published_bundle_hash_matches_the_files() -> None:
    doc = (ROOT / "docs/web-client.md").read_text(encoding="utf-8")
    published = re.search(r"bundle sha256: ([0-9a-f]{64})", doc)
    assert published, "docs/web-client.md publishes the bundle hash"
    assert published.group(1) == bundle.bundle_hash(), (
        "the client changed: run `.venv/bin/python -m frontend.bundle` and update "
        "docs/web-client.md"
    )


def test_the_app_never_parses_strings_as_html_or_code() -> None:
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"setTimeout\(\s*['\"`]|Math\.random"
    )
    for path in APP.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert not forbidden.search(text), f"{path.name}: {forbidden.search(text)}"


def test_only_keys_js_uses_the_crypto_package_and_nothing_imports_libsodium() -> None:
    for path in APP.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert "vendor/libsodium" not in text, path.name
        uses_crypto = re.search(r"from\s+'[./]*crypto/", text) is not None
        assert uses_crypto == (path.name == "keys.js"), path.name


def test_the_app_stores_nothing_secret() -> None:
    """Storage is written in two places only: the outbox (ciphertext) and the desktop
    notifications switch (on or off). The agreement's acceptance is recorded on the server,
    and the peers' identities seen are kept sealed there too (crypto/SPEC.md, "Pins")."""
    writers = {
        path.relative_to(APP).as_posix()
        for path in APP.rglob("*.js")
        if re.search(r"setItem\(", path.read_text(encoding="utf-8"))
    }
    assert writers == {"outbox.js", "alerts.js"}
