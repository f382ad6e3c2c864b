"""Gives every practice that exists the default messaging agreement, version 2025-1, the
text the browser showed (and clients accepted) before the server kept the texts. New
practices get their first version when they are created (accounts/agreement.py)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from accounts.agreement import DEFAULT_TEXTS, sections_json

VERSION = "2025-1"


def give_every_practice_the_default(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    practice_model = apps.get_model("accounts", "Practice")
    version_model = apps.get_model("accounts", "AgreementVersion")
    sections = sections_json(DEFAULT_TEXTS[VERSION])
    for practice in practice_model.objects.all().iterator():
        version_model.objects.get_or_create(
            practice=practice,
            version=VERSION,
            # When the practice began: it has had this text from the start.
            defaults={"sections": sections, "published_at": practice.created_at},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_agreement_versions"),
    ]

    operations = [
        migrations.RunPython(give_every_practice_the_default, migrations.RunPython.noop),
    ]
