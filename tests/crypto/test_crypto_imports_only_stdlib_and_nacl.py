"""The crypto package imports only the standard library and PyNaCl, and pyca/cryptography
(for ML-KEM-768) in the one module that wraps primitives."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import crypto

PACKAGE = Path(crypto.__file__).resolve().parent
ALLOWED_THIRD_PARTY = {"nacl"}
PRIMITIVES_ONLY = {"cryptography"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported_top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_has_modules_to_check() -> None:
    assert len(modules()) > 10


def test_every_module_imports_only_the_standard_library_nacl_or_itself() -> None:
    for path in modules():
        for name in imported_top_level_names(path):
            allowed = (
                name in sys.stdlib_module_names
                or name in ALLOWED_THIRD_PARTY
                or (name in PRIMITIVES_ONLY and path.name == "_primitives.py")
            )
            assert allowed, f"{path.relative_to(PACKAGE)} imports {name}"


def test_no_module_imports_dynamically() -> None:
    for path in modules():
        source = path.read_text(encoding="utf-8")
        assert "__import__" not in source, path
        assert "import_module" not in source, path


def test_only_the_random_module_touches_a_randomness_source() -> None:
    sources = {"secrets", "random", "os"}
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported = {node.module}
            else:
                continue
            assert not imported & sources, f"{path.name} imports {imported & sources}"
            if "nacl.utils" in imported:
                assert path.name == "_random.py", f"{path.name} imports nacl.utils"


def test_only_the_random_module_mentions_nacl_utils() -> None:
    for path in modules():
        if path.name != "_random.py":
            assert "nacl.utils" not in path.read_text(encoding="utf-8"), path
