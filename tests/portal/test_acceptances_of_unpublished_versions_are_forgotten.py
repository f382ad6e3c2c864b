"""Acceptances recorded before the server kept the texts named any version a client sent;
the migration keeps those of versions the client's practice published and forgets the
rest, so that no row can later count as accepting a text the client never saw."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from accounts.agreement import DEFAULT_TEXTS, has_accepted_current, publish_agreement
from accounts.models import AgreementAcceptance, Practice
from tests.personas import Practice5, make_practice

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0005_forget_unpublished_acceptances")


def test_only_acceptances_of_published_versions_of_ones_own_practice_stay() -> None:
    world: Practice5 = make_practice(agreed=True)  # 2025-1, published for the practice
    other = Practice.objects.create(name="Riverside")
    publish_agreement(other, "2026-1", DEFAULT_TEXTS["2025-1"])
    # What the old endpoint let a client record:
    AgreementAcceptance.objects.create(user=world.client.user, version="2026-2")
    AgreementAcceptance.objects.create(user=world.client.user, version="2026-1")  # not theirs

    migration.forget_unpublished(apps, None)

    kept = AgreementAcceptance.objects.filter(user=world.client.user)
    assert sorted(kept.values_list("version", flat=True)) == ["2025-1"]
    assert AgreementAcceptance.objects.filter(user=world.other_client.user).exists()
    publish_agreement(world.practice, "2026-2", DEFAULT_TEXTS["2025-1"])
    assert not has_accepted_current(world.client.user.pk, world.practice.pk)
