"""Benchmark of the sharing policy on the FHIR face: what the policy and the access event cost a professional's
DocumentReference search, against the same search without them.

    .venv/bin/python bench/sharing.py [--persons N] [--documents N] [--requests N]   (defaults 1,000 / 300 / 500)

Uses a PostgreSQL database that it drops, recreates and migrates (DATABASE_URL overrides
postgres://postgres@127.0.0.1:5432/carnet_bench), with the real settings outside demo and test mode, as
bench/record.py does. It builds, untimed: a directory of professionals (several professions, establishments,
care teams), N persons holding 200 documents each, their authorisations, blocks and roles, and a target person
with --documents documents (professional and holder types, some the matrix denies a doctor, some masked, some
authored by the doctor), a médecin traitant who is not the doctor, a block on another professional, an
authorisation in force for the doctor (and for a care team and an establishment he belongs to) and a history of
access events. Then, in the same run and interleaved request by request (the order alternates each round), it
times two ways of sending `GET /fhir/DocumentReference?patient=Patient/<uuid>` with the doctor's bearer token
through Django's test Client (the whole request stack: middleware, token lookup, parameters, SQL, the Bundle
as JSON):

  1. policy: the product as it is. The policy decides on the space (one READ_RECORD access event written and
     hash-chained, the first-access check), then lists `documents_for_professional` (block, authorisation,
     the habilitation matrix, masking) and serialises the first page;
  2. no policy: the same view, the same parameters, the same count and page queries, the same serialisation,
     with the policy bypassed inside this script (`carnet.fhir.resources.authorise` answers "allowed" without
     deciding or recording, and `documents_for_professional` lists the person's documents that are not
     deleted). Nothing in the product knows about this bypass.

It reports p50, p99 and max of each, the overhead (policy / no policy - 1) at p50, p99 and on the mean, the
SQL time (through an execute_wrapper) and the statements of one request of each kind. It checks that every
answer is a 200 with the right total (the policy's: `decide(doctor, READ_DOCUMENT, d)` for each document), one
access event per policy request and an intact chain, and exits 1 if a check fails, 2 if the overhead at p50 is
30 % or more, 0 otherwise.
"""

import argparse
import cProfile
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import record as bench  # noqa: E402 - the shared helpers of bench/record.py

DOCS_PER_OTHER = 200
WARM_UP = 20
TARGET_OVERHEAD = 0.30
PROFESSIONS = ["10", "10", "10", "21", "40", "50", "60", "60"]  # médecins, pharmaciens, dentistes, sages-femmes...
HOLDER_TYPES = ["DOCPAT01", "DOCPAT02", "DOCPAT03", "DOCPAT04", "DOCPAT06", "DOCPAT07", "DOCPAT09"]


# --- the data set ----------------------------------------------------------------------------------------------

def build(args) -> dict:
    """The directory, the persons and their documents, the target's sharing settings and history."""
    import psycopg
    from psycopg.types.json import Jsonb

    from carnet.identity.enums import SpaceStatus
    from carnet.identity.models import Person
    from carnet.interop import terminology
    from carnet.record.enums import AuthorKind, DocumentSource, DocumentStatus
    from carnet.record.models import Document
    from carnet.sharing import events
    from carnet.sharing.models import (
        ActivityPlace,
        Authorisation,
        Block,
        CareRole,
        CareTeam,
        CareTeamMember,
        Establishment,
        Professional,
    )
    from carnet.sharing.policy import Role
    from carnet.sharing.tokens import issue_professional_token

    rng = random.Random(args.seed)  # noqa: S311 - synthetic data
    now = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    # The directory: professionals of several professions, establishments, care teams.
    establishments = Establishment.objects.bulk_create(
        [Establishment(finess=f"75{n:07d}", name=f"Établissement {n}") for n in range(40)])
    pros = Professional.objects.bulk_create([
        Professional(rpps=f"1{n:010d}", family_name=rng.choice(bench.FAMILY), given_names=rng.choice(bench.GIVEN),
                     profession_code=rng.choice(PROFESSIONS)) for n in range(args.professionals)])
    ActivityPlace.objects.bulk_create([ActivityPlace(professional=p, establishment=e) for p in pros
                                       for e in rng.sample(establishments, rng.choice((1, 1, 2)))],
                                      ignore_conflicts=True)
    teams = CareTeam.objects.bulk_create([CareTeam(name=f"Maison de santé {n}", establishment=establishments[n])
                                          for n in range(20)])
    CareTeamMember.objects.bulk_create([CareTeamMember(team=t, professional=p) for t in teams
                                        for p in rng.sample(pros, 8)], ignore_conflicts=True)
    doctor = Professional.objects.create(rpps="19999999999", family_name="Martin", given_names="Claire",
                                         profession_code="10", specialty_code="SM54")
    ActivityPlace.objects.create(professional=doctor, establishment=establishments[0])
    CareTeamMember.objects.create(team=teams[0], professional=doctor)
    _row, token = issue_professional_token(doctor, lifetime=dt.timedelta(hours=12))
    # Tokens of other professionals, so the token table is not empty.
    for p in pros[:200]:
        issue_professional_token(p, lifetime=dt.timedelta(hours=12))

    # The persons: the target (with an account, as a holder would have) and the others, by COPY.
    target, _token = bench.active_person(0, with_token=True)
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence('identity_person', 'id')) "
                        "FROM generate_series(1, %s)", [args.persons])
            others = [row[0] for row in cur.fetchall()]
        person_fields = ["id", "uuid", "nir", "vitale_serial", "family_name", "given_names", "birth_date", "sex",
                         "status", "created_at", "updated_at"]

        def person_rows():
            for n, pk in enumerate(others, start=1):
                v = bench.person_values(n + 10)
                yield (pk, uuid.UUID(int=rng.getrandbits(128), version=4), v["nir"], v["vitale_serial"],
                       v["family_name"], v["given_names"], v["birth_date"], v["sex"], str(SpaceStatus.ACTIVE),
                       now - bench.SPAN, now - bench.SPAN)

        bench.copy_rows(conn, Person, person_fields, person_rows())
        pro_types = []
        for code in bench.PROFESSIONAL_TYPES + ["ATTEST-RESID"]:
            found = terminology.document_type(code)
            if found is not None:
                pro_types.append((found.code, found.system, terminology.category_for_type(found.code)))
        holder_types = []
        for code in HOLDER_TYPES:
            found = terminology.document_type(code)
            if found is not None:
                holder_types.append((found.code, found.system, terminology.category_for_type(found.code)))
        classes = {code: (terminology.class_for_type(code).code if terminology.class_for_type(code) else "")
                   for code, _s, _c in holder_types + pro_types}
        pdf_code = terminology.format_code_for("pdf").code
        # Owners in time order, shuffled: the target's rows spread over the table.
        owners = [target.pk] * args.documents + [pk for pk in others for _ in range(DOCS_PER_OTHER)]
        rng.shuffle(owners)
        doc_fields = ["uuid", "person_id", "type_code", "type_system", "class_code", "category", "title", "act_date",
                      "source", "author_kind", "author_label", "author_identifier", "format", "mime_type",
                      "format_code", "filename", "size", "sha256", "details", "status", "unique_id",
                      "masked_to_professionals", "created_at", "updated_at", "event_codes"]
        empty, no_events, first = Jsonb({}), Jsonb([]), now - bench.SPAN
        step_seconds = bench.SPAN.total_seconds() / len(owners)
        own_rpps = [doctor.rpps, doctor.national_id]

        def document_rows():
            for i, owner in enumerate(owners):
                created = first + dt.timedelta(seconds=i * step_seconds)
                if rng.random() < 0.3:
                    code, system, category = rng.choice(holder_types)
                    source, kind, label, ident, unique_id = DocumentSource.HOLDER, AuthorKind.HOLDER, "", "", ""
                    act = None
                else:
                    code, system, category = rng.choice(pro_types)
                    source, kind = DocumentSource.PROFESSIONAL, AuthorKind.PROFESSIONAL
                    label, unique_id = f"Dr {rng.choice(bench.GIVEN)} {rng.choice(bench.FAMILY)}", f"2.25.{i}"
                    ident = rng.choice(own_rpps) if owner == target.pk and rng.random() < 0.03 else \
                        f"810{rng.getrandbits(26):08d}"
                    act = created - dt.timedelta(days=rng.randrange(0, 30))
                status = DocumentStatus.DELETED if rng.random() < 0.02 else DocumentStatus.CURRENT
                masked = rng.random() < 0.1
                yield (uuid.UUID(int=rng.getrandbits(128), version=4), owner, code, system, classes[code],
                       str(category), f"{rng.choice(bench.TITLES)} {i % 997}", act, str(source), str(kind), label,
                       ident, "pdf", "application/pdf", pdf_code, f"document-{i}.pdf",
                       rng.randrange(20_000, 2_000_000), rng.getrandbits(256).to_bytes(32).hex(), empty, str(status),
                       unique_id, masked, created, created, no_events)

        documents = bench.copy_rows(conn, Document, doc_fields, document_rows())
        conn.commit()
    # What the holders decided: a few authorisations each (professionals, teams, establishments), some expired or
    # revoked, a few blocks and roles; the target: the doctor directly, his care team and his establishment, a
    # médecin traitant who is someone else, two blocked professionals.
    grants, blocks, roles = [], [], []
    for pk in others:
        for p in rng.sample(pros, 3):
            expires = now + dt.timedelta(days=30) if rng.random() < 0.3 else None
            revoked = now - dt.timedelta(days=3) if rng.random() < 0.1 else None
            grants.append(Authorisation(person_id=pk, professional=p, expires_at=expires, revoked_at=revoked))
        if rng.random() < 0.2:
            grants.append(Authorisation(person_id=pk, care_team=rng.choice(teams)))
        if rng.random() < 0.1:
            grants.append(Authorisation(person_id=pk, establishment=rng.choice(establishments)))
        if rng.random() < 0.05:
            blocks.append(Block(person_id=pk, professional=rng.choice(pros)))
        if rng.random() < 0.5:
            roles.append(CareRole(person_id=pk, professional=rng.choice(pros), kind="medecin_traitant"))
    medecin_traitant = next(p for p in pros if p.profession_code == "10")
    grants += [Authorisation(person=target, professional=doctor, granted_by=target),
               Authorisation(person=target, care_team=teams[0], granted_by=target),
               Authorisation(person=target, establishment=establishments[0], granted_by=target),
               Authorisation(person=target, professional=medecin_traitant, granted_by=target),
               Authorisation(person=target, professional=pros[-1], granted_by=target,
                             expires_at=now - dt.timedelta(days=1))]
    blocks += [Block(person=target, professional=pros[-2], blocked_by=target),
               Block(person=target, professional=pros[-3], blocked_by=target, lifted_at=now - dt.timedelta(days=9))]
    roles.append(CareRole(person=target, professional=medecin_traitant, kind="medecin_traitant"))
    Authorisation.objects.bulk_create(grants)
    Block.objects.bulk_create(blocks)
    CareRole.objects.bulk_create(roles)
    # The target's history: earlier reads by professionals (the doctor among them), hash-chained.
    from carnet.sharing import channels

    with channels.using(channels.FHIR):
        for n in range(args.events):
            actor = doctor if n % 10 == 0 else rng.choice(pros)
            events.record(target, actor=actor, role=Role.PROFESSIONAL, action="record.read", reason="authorised",
                          subject="search:DocumentReference")
    filled = time.perf_counter() - start
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    target.refresh_from_db()
    return {"target": target, "doctor": doctor, "token": token, "documents": documents, "persons": args.persons + 1,
            "professionals": len(pros) + 1, "authorisations": len(grants), "seconds": filled}


# --- the two ways ----------------------------------------------------------------------------------------------

@contextmanager
def without_policy():
    """The FHIR search with the policy and the access event taken out (this script only): the space is "allowed"
    without deciding or recording anything, and the list is the person's documents that are not deleted."""
    from carnet.fhir import resources
    from carnet.record.enums import DocumentStatus
    from carnet.record.models import Document
    from carnet.sharing.policy import Decision, PolicyDenied, Role

    def authorise(actor, action, target, *, subject=""):
        if target is None:
            raise PolicyDenied(Decision(False, "no_relationship", Role.NONE))
        return Decision(True, "authorised", Role.PROFESSIONAL)

    def documents_for_professional(professional, person):
        return Document.objects.of(person).exclude(status=DocumentStatus.DELETED)

    saved = resources.authorise, resources.documents_for_professional
    resources.authorise, resources.documents_for_professional = authorise, documents_for_professional
    try:
        yield
    finally:
        resources.authorise, resources.documents_for_professional = saved


@contextmanager
def with_policy():
    yield


def measure(args, data: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from carnet.record.enums import DocumentStatus
    from carnet.record.models import Document
    from carnet.sharing.models import AccessEvent
    from carnet.sharing.policy import Action, decide

    target, doctor = data["target"], data["doctor"]
    web = bench.client()
    headers = {"Authorization": f"Bearer {data['token']}", "Accept": "application/fhir+json"}
    query = {"patient": f"Patient/{target.uuid}"}
    listed = list(Document.objects.of(target).exclude(status=DocumentStatus.DELETED).select_related("person"))
    expected = {"policy": sum(1 for d in listed if decide(doctor, Action.READ_DOCUMENT, d)),
                "no policy": len(listed)}
    ways = {"policy": with_policy, "no policy": without_policy}
    searches = AccessEvent.objects.filter(person=target, professional=doctor, action=Action.READ_RECORD, allowed=True,
                                          reason="authorised", subject="search:DocumentReference", channel="fhir")
    events_before, searches_before = AccessEvent.objects.filter(person=target).count(), searches.count()
    timer = bench.SqlClock()

    times: dict[str, list[float]] = {name: [] for name in ways}
    db: dict[str, list[float]] = {name: [] for name in ways}
    wrong: list[str] = []
    policy_requests = 0
    bench.step(f"{WARM_UP} warm-up + {args.requests} timed requests each way, interleaved")
    with connection.execute_wrapper(timer):
        for n in range(WARM_UP + args.requests):
            order = list(ways) if n % 2 == 0 else list(reversed(ways))
            for name in order:
                with ways[name]():
                    timer.seconds = 0.0
                    begin = time.perf_counter()
                    response = web.get("/fhir/DocumentReference", query, headers=headers, secure=True)
                    elapsed = time.perf_counter() - begin
                policy_requests += name == "policy"
                body = response.json() if response.status_code == 200 else {}
                entries = [e for e in body.get("entry", []) if e.get("search", {}).get("mode") == "match"]
                if (response.status_code != 200 or body.get("total") != expected[name]
                        or len(entries) != min(50, expected[name])):
                    wrong.append(f"{name}: HTTP {response.status_code}, total {body.get('total')}, "
                                 f"{len(entries)} entries")
                if n >= WARM_UP:
                    times[name].append(elapsed * 1000)
                    db[name].append(timer.seconds * 1000)
    statements: dict[str, list[str]] = {}
    for name, way in ways.items():
        with way(), CaptureQueriesContext(connection) as captured:
            web.get("/fhir/DocumentReference", query, headers=headers, secure=True)
        policy_requests += name == "policy"
        statements[name] = [re.sub(r"^SELECT .*? FROM ", "SELECT ... FROM ", q["sql"])[:150]
                            for q in captured.captured_queries]
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(200):
            web.get("/fhir/DocumentReference", query, headers=headers, secure=True)
        profile.disable()
        policy_requests += 200
        profile.dump_stats(args.profile)
    from carnet.sharing.events import verify_chain

    new_events = AccessEvent.objects.filter(person=target).count() - events_before
    by_doctor = searches.count() - searches_before
    chain = verify_chain(target)
    steps = policy_steps(target, doctor)
    return {"times": times, "db": db, "wrong": wrong, "expected": expected, "statements": statements,
            "events": (new_events, policy_requests), "by_doctor": by_doctor, "chain": chain,
            "listed": len(listed), "steps": steps}


def policy_steps(target, doctor, rounds: int = 300) -> dict[str, float]:
    """The policy's parts of a search timed alone, interleaved, for the same doctor and patient (medians, ms):
    where the overhead goes, without a profiler's own. Not part of the comparison above."""
    from carnet.record.enums import DocumentStatus
    from carnet.record.models import Document
    from carnet.record.visibility import documents_for_professional
    from carnet.sharing import channels, events
    from carnet.sharing.policy import Action, Role, decide, remembering

    plain = Document.objects.of(target).exclude(status=DocumentStatus.DELETED)

    def listed():
        with remembering():
            decide(doctor, Action.READ_RECORD, target)
            return documents_for_professional(doctor, target)

    with remembering():
        decide(doctor, Action.READ_RECORD, target)
        policy_list = documents_for_professional(doctor, target)
    parts = {
        "decide(READ_RECORD) on the space": lambda: decide(doctor, Action.READ_RECORD, target),
        "events.record (own transaction)": lambda: events.record(
            target, actor=doctor, role=Role.PROFESSIONAL, action="bench.step", reason="authorised"),
        "decide + documents_for_professional": listed,
        "count, with the policy's filter": lambda: policy_list.count(),
        "count, person's documents only": lambda: plain.count(),
    }
    timings: dict[str, list[float]] = {name: [] for name in parts}
    bench.step(f"timing the policy's parts alone ({rounds} rounds)")
    with channels.using(channels.FHIR):
        for _ in range(rounds):
            for name, func in parts.items():
                begin = time.perf_counter()
                func()
                timings[name].append((time.perf_counter() - begin) * 1000)
    return {name: statistics.median(values) for name, values in timings.items()}


# --- the report ------------------------------------------------------------------------------------------------

def report(args, data: dict, result: dict, facts: dict, loads) -> int:
    problems: list[str] = []
    print()
    print(f"sharing benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {bench.machine()}")
    print(f"PostgreSQL {facts['version']}: shared_buffers {facts['shared_buffers']}, work_mem {facts['work_mem']}, "
          f"synchronous_commit {facts['synchronous_commit']}")
    print("load average (1, 5, 15 min): " + "; ".join(f"{label} {a:.2f} {b:.2f} {c:.2f}"
                                                     for label, (a, b, c) in loads))
    print(f"data: {data['persons']:,} persons, {data['documents']:,} documents, {data['professionals']:,} "
          f"professionals, {data['authorisations']:,} authorisations; built in {data['seconds']:.1f} s (not timed)")
    print(f"target: {result['listed']} documents not deleted; the doctor may read {result['expected']['policy']} "
          f"(the policy, document by document); {args.events:,} earlier access events")
    print()
    print("GET /fhir/DocumentReference?patient=Patient/<uuid> (first page, 50 entries), professional bearer token")
    print(f"{'':<12}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'mean ms':>9}{'SQL p50 ms':>12}"
          f"{'statements':>12}")
    for name, values in result["times"].items():
        print(f"{name:<12}{len(values):>9,}{bench.percentile(values, 50):>9.2f}{bench.percentile(values, 99):>9.2f}"
              f"{max(values):>9.2f}{statistics.fmean(values):>9.2f}{bench.percentile(result['db'][name], 50):>12.2f}"
              f"{len(result['statements'][name]):>12}")
    with_p, without = result["times"]["policy"], result["times"]["no policy"]
    p50 = bench.percentile(with_p, 50) / bench.percentile(without, 50) - 1
    p99 = bench.percentile(with_p, 99) / bench.percentile(without, 99) - 1
    mean = statistics.fmean(with_p) / statistics.fmean(without) - 1
    print(f"overhead of the policy and the access event: p50 {p50:+.1%}, p99 {p99:+.1%}, mean {mean:+.1%} "
          f"(target < {TARGET_OVERHEAD:.0%} at p50): {'met' if p50 < TARGET_OVERHEAD else 'MISSED'}")
    for name, sqls in result["statements"].items():
        print(f"statements of one request, {name}:")
        for sql in sqls:
            print(f"  {sql}")
    print("the policy's parts timed alone (medians, ms; after the timed requests):")
    for name, ms in result["steps"].items():
        print(f"  {name:<40}{ms:>7.2f}")
    made, asked = result["events"]
    if made != asked:
        problems.append(f"{made} access events for {asked} requests with the policy")
    if result["by_doctor"] != asked:
        problems.append(f"{result['by_doctor']} allowed FHIR search events by the doctor for {asked} requests")
    if not result["chain"]:
        problems.append("the target's access-event chain is broken")
    if result["wrong"]:
        problems.append(f"{len(result['wrong'])} wrong answers, e.g. {result['wrong'][0]}")
    print(f"checks: {made} access events for {asked} requests with the policy; chain "
          f"{'intact' if result['chain'] else 'BROKEN'}; {len(result['wrong'])} wrong answers")
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    if p50 >= TARGET_OVERHEAD:
        print(f"target missed: overhead {p50:.1%} at p50")
        return 2
    print("target: met")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000, help=f"other persons, {DOCS_PER_OTHER} documents each")
    parser.add_argument("--documents", type=int, default=300, help="documents of the target person")
    parser.add_argument("--professionals", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=1_000, help="earlier access events of the target")
    parser.add_argument("--requests", type=int, default=500, help="timed requests each way")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of 200 more requests with the policy")
    args = parser.parse_args()

    loads = [("before", os.getloadavg())]
    with tempfile.TemporaryDirectory(prefix="carnet-bench-") as tmp:
        url = bench.real_settings(Path(tmp))
        bench.recreate_database(url)
        import django

        django.setup()
        bench.fresh_database(url, "sharing")
        bench.step(f"building {args.persons:,} persons, {args.persons * DOCS_PER_OTHER + args.documents:,} documents "
                   "and the directory (not timed)")
        data = build(args)
        result = measure(args, data)
        loads.append(("after", os.getloadavg()))
        return report(args, data, result, bench.server_facts(), loads)


if __name__ == "__main__":
    sys.exit(main())
