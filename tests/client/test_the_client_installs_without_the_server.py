"""The client is a distribution of its own, ``confide-client`` (clients/python): its wheel
holds ``confide_client``, ``crypto`` and ``protocol`` and nothing else, depends on no part
of the server (no Django, no Channels), and installed into a fresh virtual environment with
only its declared dependencies it imports, runs, and cannot import Django.

The wheel is built with the build backend pinned in requirements-test.lock (no isolation,
so nothing is fetched). The fresh environment gets its dependencies from the copies this
environment already holds, exactly those the wheel's metadata names and theirs in turn,
linked into a folder of their own, so the test needs no network and stays fast.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"confide_client", "crypto", "protocol"}
SERVER_DISTRIBUTIONS = {"django", "channels", "channels-redis", "daphne", "uvicorn", "psycopg"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(ROOT / "clients" / "python"),
            "-w",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    (built,) = out.glob("confide_client-*.whl")
    return built


def _requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        fields = Parser().parsestr(archive.read(name).decode("utf-8"))
    return [Requirement(text) for text in fields.get_all("Requires-Dist") or []]


def test_the_wheel_holds_only_the_three_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops - {"confide_client-0.1.0.dist-info"} == PACKAGES
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for needed in ("confide_client/py.typed", "crypto/SPEC.md", "protocol/schema.json"):
        assert needed in names
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read("confide_client-0.1.0.dist-info/entry_points.txt").decode()
    assert "confide-chat = confide_client.cli:main" in entry_points


def test_its_metadata_names_no_part_of_the_server(wheel: Path) -> None:
    required = {canonicalize_name(r.name) for r in _requirements(wheel)}
    assert required == {
        "pynacl",
        "cryptography",
        "pydantic",
        "httpx",
        "websockets",
        "prompt-toolkit",
    }
    assert not required & SERVER_DISTRIBUTIONS


def _closure(requirements: list[Requirement]) -> tuple[set[str], set[str]]:
    """The installed distributions these requirements need, and those not installed here."""
    found: set[str] = set()
    missing: set[str] = set()
    todo = [r for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]
    while todo:
        name = canonicalize_name(todo.pop().name)
        if name in found or name in missing:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.add(name)
            continue
        found.add(name)
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement)
    return found, missing


def _link_dependencies(names: set[str], into: Path) -> None:
    into.mkdir()
    for name in names:
        distribution = metadata.distribution(name)
        tops = {
            Path(str(file)).parts[0]
            for file in distribution.files or []
            if not str(file).startswith("..")
        }
        for top in tops:
            source = Path(str(distribution.locate_file(top)))
            target = into / top
            if source.exists() and not target.exists():
                target.symlink_to(source)


def test_installed_alone_it_imports_and_runs_without_django(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=120,
    )
    found, missing = _closure(_requirements(wheel))
    # The chat's terminal library arrives with the chat (its owner adds it to the project).
    assert missing <= {"prompt-toolkit"}
    assert not {canonicalize_name(n) for n in found} & SERVER_DISTRIBUTIONS
    _link_dependencies(found, tmp_path / "dependencies")
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(str(tmp_path / "dependencies") + "\n")

    script = """
import importlib.util, pathlib, sys, tempfile
import confide_client
from confide_client import ConfideClient, StateFolder
assert pathlib.Path(confide_client.__file__).is_relative_to(sys.prefix), confide_client.__file__
import crypto, protocol
assert crypto.IdentityKeyPair.generate().public
folder = StateFolder(pathlib.Path(tempfile.mkdtemp()) / "state")
client = ConfideClient("http://127.0.0.1:8000", state=folder)
for server_part in ("django", "channels", "messaging", "accounts", "portal"):
    assert importlib.util.find_spec(server_part) is None, server_part
print("ok")
"""
    run = subprocess.run(
        [str(python), "-I", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
    assert (venv / "bin" / "confide-chat").exists()
