"""The blob's own person_id index goes: the (person, sha256) constraint starts with that column (built and dropped
without stopping writes: carnet/common/online_schema.py)."""

import django.db.models.deletion
from django.db import migrations, models

from carnet.common import online_schema


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('identity', '0001_initial'),
        ('vault', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='blob',
                    name='person',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='blobs', to='identity.person'),
                ),
            ],
            database_operations=[
                online_schema.drop_field_index("vault.Blob", "person_id"),
            ],
        ),
    ]
