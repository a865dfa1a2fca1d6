"""The notice's own person_id index goes: the (person, -created_at) index starts with that column (dropped without
stopping writes: carnet/common/online_schema.py)."""

import django.db.models.deletion
from django.db import migrations, models

from carnet.common import online_schema


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('identity', '0001_initial'),
        ('notifications', '0002_notification_occurrences'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='notification',
                    name='person',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='identity.person'),
                ),
            ],
            database_operations=[
                online_schema.drop_field_index("notifications.Notification", "person_id"),
            ],
        ),
    ]
