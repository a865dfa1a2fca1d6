"""A document's mostly empty links (preview, author person, replaced version, folder, submission set) are indexed
where set only, and the SubmissionSet's person_id index goes (its (person, unique_id) constraint starts with it).
Built and dropped without stopping writes (carnet/common/online_schema.py)."""

import django.db.models.deletion
from django.db import migrations, models

from carnet.common import online_schema


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
                migrations.AddIndex(
                    model_name='document',
                    index=models.Index(condition=models.Q(('preview_blob__isnull', False)), fields=['preview_blob'], name='document_preview_blob'),
                ),
                migrations.AddIndex(
                    model_name='document',
                    index=models.Index(condition=models.Q(('author_person__isnull', False)), fields=['author_person'], name='document_author_person'),
                ),
                migrations.AddIndex(
                    model_name='document',
                    index=models.Index(condition=models.Q(('replaces__isnull', False)), fields=['replaces'], name='document_replaces'),
                ),
                migrations.AddIndex(
                    model_name='document',
                    index=models.Index(condition=models.Q(('folder__isnull', False)), fields=['folder'], name='document_folder'),
                ),
                migrations.AddIndex(
                    model_name='document',
                    index=models.Index(condition=models.Q(('submission_set__isnull', False)), fields=['submission_set'], name='document_submission_set'),
                ),
            ],
            database_operations=[
                online_schema.add_index("record.Document", models.Index(condition=models.Q(("preview_blob__isnull", False)), fields=["preview_blob"], name="document_preview_blob")),
                online_schema.add_index("record.Document", models.Index(condition=models.Q(("author_person__isnull", False)), fields=["author_person"], name="document_author_person")),
                online_schema.add_index("record.Document", models.Index(condition=models.Q(("replaces__isnull", False)), fields=["replaces"], name="document_replaces")),
                online_schema.add_index("record.Document", models.Index(condition=models.Q(("folder__isnull", False)), fields=["folder"], name="document_folder")),
                online_schema.add_index("record.Document", models.Index(condition=models.Q(("submission_set__isnull", False)), fields=["submission_set"], name="document_submission_set")),
                online_schema.drop_field_index("record.Document", "preview_blob_id"),
                online_schema.drop_field_index("record.Document", "author_person_id"),
                online_schema.drop_field_index("record.Document", "replaces_id"),
                online_schema.drop_field_index("record.Document", "folder_id"),
                online_schema.drop_field_index("record.Document", "submission_set_id"),
                online_schema.drop_field_index("record.SubmissionSet", "person_id"),
            ],
        ),
    ]
