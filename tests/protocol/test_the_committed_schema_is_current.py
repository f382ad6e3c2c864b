"""protocol/schema.json and the browser's protocol.js are generated from the protocol
package and committed; a change to the package that is not regenerated fails here."""

from __future__ import annotations

import json
from pathlib import Path

from protocol import schema
from protocol.errors import ERRORS, RESEND, ErrorCode


def test_the_committed_files_match_the_protocol_package() -> None:
    assert schema.stale(schema.generated()) == []


def test_a_stale_file_is_named(tmp_path: Path) -> None:
    committed = tmp_path / "schema.json"
    committed.write_text(schema.SCHEMA_PATH.read_text().replace('"version": 1', '"version": 0'))
    assert schema.stale({committed: schema.generated()[schema.SCHEMA_PATH]}) == [committed]


def test_a_missing_file_is_stale(tmp_path: Path) -> None:
    missing = tmp_path / "protocol.js"
    assert schema.stale({missing: schema.javascript()}) == [missing]


def test_the_schema_lists_every_error_code_with_its_status_and_resend_rule() -> None:
    document = json.loads(schema.SCHEMA_PATH.read_text())
    assert document["errors"] == {
        str(code): {"status": ERRORS[code].status, "resend": code in RESEND} for code in ErrorCode
    }
    assert set(ERRORS) == set(ErrorCode)


def test_the_browser_module_carries_the_same_resend_set() -> None:
    text = schema.JS_PATH.read_text()
    for code in ErrorCode:
        assert f'"{code}"' in text
    resend_block = text.split("export const RESEND = new Set(")[1].split(");")[0]
    assert sorted(json.loads(resend_block)) == sorted(str(code) for code in RESEND)
