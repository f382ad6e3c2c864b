"""Forgets acceptances of versions the client's practice never published.

Before the server kept the texts, ``POST /api/agreement`` recorded whatever version a
client sent. Acceptance is matched on the version's name, so such a row would count as
accepting a version published later under that name, which the client never saw. The
browser of the time only ever sent ``2025-1``, which migration 0004 published for every
practice; any other row was never an acceptance of a text, and goes."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Exists, OuterRef


def forget_unpublished(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    acceptance_model = apps.get_model("accounts", "AgreementAcceptance")
    version_model = apps.get_model("accounts", "AgreementVersion")
    published = version_model.objects.filter(
        practice_id=OuterRef("user__practice_id"), version=OuterRef("version")
    )
    acceptance_model.objects.exclude(Exists(published)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_default_agreement"),
    ]

    operations = [
        migrations.RunPython(forget_unpublished, migrations.RunPython.noop),
    ]
