"""A document's mostly empty links (preview, author person, replaced version, folder, submission set) are indexed
where set only, and the SubmissionSet's person_id index goes (its (person, unique_id) constraint starts with it).
Built and dropped without stopping writes (carnet/common/online_schema.py)."""

import django.db.models.deletion
from django.db import migrations, models

from carnet.common import online_schema

LINKS = ("preview_blob", "author_person", "replaces", "folder", "submission_set")
INDEXES = [models.Index(condition=models.Q((f"{link}__isnull", False)), fields=[link], name=f"document_{link}")
           for link in LINKS]


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ('identity', '0001_initial'),
        ('record', '0007_masked_by_holder'),
        ('vault', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='document',
                    name='author_person',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='identity.person'),
                ),
                migrations.AlterField(
                    model_name='document',
                    name='folder',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='documents', to='record.folder'),
                ),
                migrations.AlterField(
                    model_name='document',
                    name='preview_blob',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='vault.blob'),
                ),
                migrations.AlterField(
                    model_name='document',
                    name='replaces',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='versions', to='record.document'),
                ),
                migrations.AlterField(
                    model_name='document',
                    name='submission_set',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='documents', to='record.submissionset'),
                ),
                migrations.AlterField(
                    model_name='submissionset',
                    name='person',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='identity.person'),
                ),
                *(migrations.AddIndex(model_name="document", index=index) for index in INDEXES),
            ],
            database_operations=[
                *(online_schema.add_index("record.Document", index.clone()) for index in INDEXES),
                *(online_schema.drop_field_index("record.Document", f"{link}_id") for link in LINKS),
                online_schema.drop_field_index("record.SubmissionSet", "person_id"),
            ],
        ),
    ]
