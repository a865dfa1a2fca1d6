"""The access event's lock and chain head in one prepared statement on PostgreSQL: `carnet_event_head(person,
professional)` locks the person row, then reads the chain head and whether the professional already had an allowed
access. A VOLATILE function takes a fresh snapshot for each of its statements, so the read sees what the previous
holder of the lock committed, as two statements from the client did, in one round trip (carnet/sharing/events.py).
Other databases keep the two statements."""

from django.db import migrations

from carnet.common import online_schema

CREATE = """
CREATE OR REPLACE FUNCTION carnet_event_head(p_person bigint, p_professional bigint)
RETURNS TABLE ("sequence" integer, "hash" varchar, "earlier" boolean)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM "identity_person" WHERE "id" = p_person FOR UPDATE;
    RETURN QUERY
        SELECT "head"."sequence", "head"."hash", EXISTS (
                   SELECT 1 FROM "sharing_accessevent" AS "seen"
                   WHERE "seen"."person_id" = p_person AND "seen"."professional_id" = p_professional
                     AND "seen"."allowed")
        FROM (SELECT 1 AS "one") AS "anchor" LEFT JOIN (
            SELECT "last"."sequence", "last"."hash"::varchar FROM "sharing_accessevent" AS "last"
            WHERE "last"."person_id" = p_person ORDER BY "last"."sequence" DESC LIMIT 1) AS "head" ON TRUE;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS carnet_event_head(bigint, bigint)"


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0007_access_event_indexes"),
    ]

    operations = [online_schema.postgresql_only(CREATE, DROP)]
