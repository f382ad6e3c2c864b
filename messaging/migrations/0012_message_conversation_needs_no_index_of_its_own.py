import django.db.models.deletion
from django.db import migrations, models

# The index Django made for the foreign key: both unique constraints of the table begin
# with conversation_id and serve every lookup by conversation. Dropped by name on either
# database (a change of the field would make SQLite copy the whole table).
INDEX = "messaging_message_conversation_id_3db4d3d1"


class Migration(migrations.Migration):
    dependencies = [("messaging", "0011_epoch_start_seq")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="messaging.conversation",
                    ),
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    f"CREATE INDEX IF NOT EXISTS {INDEX} ON messaging_message (conversation_id)",
                )
            ],
        )
    ]
