"""A covering index for a professional's document list (`record.visibility.documents_for_professional`): the
policy's filter reads the status, type, masking and author of every document of the person; with them in the
index, the count of a professional's FHIR search is an index-only scan instead of reading each row from the
table, where a person's documents are spread (bench/sharing.py, bench/README.md). A separate index, so the
holder's list keeps its smaller `document_person_list`. PostgreSQL only (INCLUDE); built CONCURRENTLY, so
documents can still be added while it is built. Not declared on the model: Django's Index cannot say CONCURRENTLY,
and the model state does not change."""

from django.db import migrations

from carnet.common import online_schema

CREATE = ('CREATE INDEX CONCURRENTLY "document_professional_read" ON "record_document" ("person_id") '
          'INCLUDE ("status", "type_code", "masked_to_professionals", "author_identifier")')
DROP = 'DROP INDEX CONCURRENTLY IF EXISTS "document_professional_read"'


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("record", "0003_xds_metadata"),
    ]

    operations = [online_schema.postgresql_only(CREATE, DROP)]
