from django.db import migrations, models

# For the conversations there are: the number before the first message of the current
# epoch, or the last one when the epoch has none yet.
FILL = """
UPDATE messaging_conversation SET epoch_start_seq = COALESCE(
    (SELECT MIN(m.seq) - 1 FROM messaging_message m
     WHERE m.conversation_id = messaging_conversation.id
       AND m.epoch = messaging_conversation.current_epoch),
    messaging_conversation.last_seq)
"""


class Migration(migrations.Migration):
    dependencies = [("messaging", "0010_attachments")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="epoch_start_seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
