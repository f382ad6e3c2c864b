"""The migration that made the agreements' table gives every practice of the time the
default text as version 2025-1, which its clients may already have accepted in the browser
that kept the text before the server did."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from accounts.agreement import DEFAULT_TEXTS, sections_json
from accounts.models import AgreementVersion, Practice

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0004_default_agreement")


def test_each_practice_gets_version_2025_1_as_of_its_creation_once() -> None:
    practices = [Practice.objects.create(name=name) for name in ("Lakeside", "Riverside")]
    AgreementVersion.objects.all().delete()  # as they were before the table existed

    migration.give_every_practice_the_default(apps, None)
    migration.give_every_practice_the_default(apps, None)

    for practice in practices:
        [version] = AgreementVersion.objects.filter(practice=practice)
        assert version.version == "2025-1"
        assert version.sections == sections_json(DEFAULT_TEXTS["2025-1"])
        assert version.published_at == practice.created_at
