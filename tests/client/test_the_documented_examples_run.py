"""The worked examples of the client's reference (docs/client/examples/*.py, included in
its pages as they are) run against the stand-in portal and do what their pages say."""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from confide_client import Agreement, ConfideClient, StateFolder
from tests.client.conftest import PASSWORD, Practice, SignIn
from tests.waiting import until

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "client" / "examples"


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested_here() -> None:
    source = Path(__file__).read_text()
    for path in EXAMPLES.glob("*.py"):
        assert f'example("{path.stem}")' in source, path.name


async def test_signing_in_and_listing_conversations(practice: Practice) -> None:
    lines = await example("sign_in_and_list").list_conversations(
        practice.url, practice.therapist.email, PASSWORD
    )
    assert lines[0] == "Signed in as Theo (therapist) at Lakeside Counselling"
    assert sorted(lines[1:]) == ["Clara: 0 unread of 0 (active)", "Oscar: 0 unread of 0 (active)"]


async def test_reading_and_sending_accepts_the_agreement_first(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    theo = await sign_in(practice.therapist)
    await theo.send_text(practice.other_conversation, "Welcome, Oscar")
    shown: list[Agreement] = []

    def accept(agreement: Agreement) -> bool:
        shown.append(agreement)
        return True

    lines = await example("read_and_send").read_and_send(
        practice.url,
        practice.other_client.email,
        PASSWORD,
        "Thank you",
        state=StateFolder(tmp_path),
        accept=accept,
    )

    assert lines[0].startswith("them (") and lines[0].endswith("): Welcome, Oscar")
    assert lines[-1] == "Sent as message 2."
    assert [a.version for a in shown] == [practice.portal.agreement_version]
    assert (await theo.next_message(5)).text == "Welcome, Oscar"
    assert (await theo.next_message(5)).text == "Thank you"


async def test_reading_and_sending_without_accepting_sends_nothing(
    practice: Practice, tmp_path: Path
) -> None:
    lines = await example("read_and_send").read_and_send(
        practice.url,
        practice.other_client.email,
        PASSWORD,
        "Thank you",
        state=StateFolder(tmp_path),
        accept=lambda agreement: False,
    )
    assert lines == ["Not sent: the agreement was not accepted."]
    assert practice.portal.stored(practice.other_conversation) == []


async def _run_autoresponder(
    practice: Practice, tmp_path: Path, **window: Any
) -> asyncio.Task[int]:
    task = asyncio.create_task(
        example("away_autoresponder").autorespond(
            practice.url,
            practice.therapist.email,
            PASSWORD,
            reply="Away until Monday.",
            state=StateFolder(tmp_path),
            **window,
        )
    )
    await until(lambda: len(practice.portal.sockets) == 1 or task.done())
    return task


async def test_the_autoresponder_answers_each_message_once_while_away(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    responder = await _run_autoresponder(
        practice, tmp_path, away_from=start, away_until=start + timedelta(hours=1), stop_after=2
    )
    clara = await sign_in(practice.client)

    await clara.send_text(practice.conversation, "Can we move Thursday?")
    await clara.send_text(practice.conversation, "Or Friday?")

    assert await asyncio.wait_for(responder, 10) == 2
    texts = [(await clara.next_message(5)).text for _ in range(4)]
    assert texts.count("Away until Monday.") == 2
    stored = practice.portal.stored(practice.conversation)
    assert [m.sender for m in stored].count(practice.therapist.id) == 2


async def test_the_autoresponder_is_silent_outside_the_window(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    clock = [datetime.now(UTC)]
    responder = await _run_autoresponder(
        practice,
        tmp_path,
        away_from=later,
        away_until=later + timedelta(days=1),
        now=lambda: clock[0],
        check_every=0.1,
    )
    clara: ConfideClient = await sign_in(practice.client)
    await clara.send_text(practice.conversation, "Are you there?")
    await asyncio.sleep(0.5)
    clock[0] = later + timedelta(days=2)  # the window has passed: it stops

    assert await asyncio.wait_for(responder, 10) == 0
    assert len(practice.portal.stored(practice.conversation)) == 1
