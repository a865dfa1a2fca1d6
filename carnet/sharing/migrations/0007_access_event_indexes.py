"""Access events: one probe for "had this professional an allowed access before?" (asked on every professional's
act) instead of two single-column index reads over all the person's and the professional's events; the person_id
index goes (the (person, sequence) constraint starts with it); `actor` indexed where set. Built and dropped without
stopping writes (carnet/common/online_schema.py)."""

import django.db.models.deletion
from django.db import migrations, models

from carnet.common import online_schema

INDEXES = [
    models.Index(condition=models.Q(("allowed", True), ("professional__isnull", False)), fields=["person", "professional"],
                 name="access_event_pro_seen"),
    models.Index(condition=models.Q(("actor__isnull", False)), fields=["actor"], name="access_event_actor"),
]


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('identity', '0001_initial'),
        ('sharing', '0006_emergency_access_and_blocks_on_behalf'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='accessevent',
                    name='actor',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='identity.person'),
                ),
                migrations.AlterField(
                    model_name='accessevent',
                    name='person',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='access_events', to='identity.person'),
                ),
                *(migrations.AddIndex(model_name="accessevent", index=index) for index in INDEXES),
            ],
            database_operations=[
                *(online_schema.add_index("sharing.AccessEvent", index.clone()) for index in INDEXES),
                online_schema.drop_field_index("sharing.AccessEvent", "actor_id"),
                online_schema.drop_field_index("sharing.AccessEvent", "person_id"),
            ],
        ),
    ]
