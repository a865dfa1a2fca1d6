"""Benchmark of the registry import against a plain COPY of the same rows.

    .venv/bin/python bench/registry_import.py [--rows N]

Creates a fresh PostgreSQL database (dropped and recreated on each run; DATABASE_URL overrides
postgres://postgres@127.0.0.1:5432/carnet_bench), migrates it, writes N synthetic valid registry rows
(households: ~80 % of adults with an email, children attached to a parent) to a temporary CSV, then
times, in the same process and the same run:

  1. COPY of the raw CSV into a plain table with the CSV's columns (the floor: no validation at all);
  2. import_registry() end to end: validation, upsert, provisional codes, notices in the outbox,
     the letters PDF of the run, delivery tasks;
  3. import_registry() again on the same file (idempotence: nothing created, everything unchanged).

File generation is not timed. The database is checked afterwards and the script exits non-zero if a
count is off.
"""

import argparse
import cProfile
import datetime as dt
import itertools
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/carnet_bench"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def generate(path: Path, rows: int, seed: int) -> None:
    """Runs in a child process (see --generate-only) so its NIR set does not count in our peak RSS."""
    from carnet.identity.synthetic import People, write_csv

    people = People(seed=seed)
    today = dt.date.today()
    write_csv(path, itertools.islice(people.families(rows, today), rows))


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def pdf_pages(path: Path) -> int:
    """Page count from the page-tree root (/Type /Pages ... /Count N), read without a PDF library."""
    counts = []
    with open(path, "rb") as handle:
        tail = b""
        for block in iter(lambda: handle.read(1 << 20), b""):
            data = tail + block
            counts += [int(m.group(1)) for m in re.finditer(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
            counts += [int(m.group(1)) for m in re.finditer(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data)]
            tail = data[-200:]
    return max(counts, default=0)


def timed(label: str, func, profile: cProfile.Profile | None = None):
    print(f"... {label}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    if profile:
        result = profile.runcall(func)
    else:
        result = func()
    return result, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk-size", type=int, default=None, help="passed to import_registry if given")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the first import to FILE")
    parser.add_argument("--generate-only", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args()

    # The real settings, outside demo and test mode: database task queue, SMTP never reached
    # (mail leaves through the worker, which does not run here), letters in a temporary folder.
    for name in ("CARNET_DEMO", "CARNET_TESTING", "DEBUG"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "carnet.settings"
    os.environ["SECRET_KEY"] = "bench-only-secret-key-not-for-production-0123456789"
    os.environ["CARNET_TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(PROJECT))

    if args.generate_only:
        import django

        django.setup()
        generate(Path(args.generate_only), args.rows, args.seed)
        return 0

    url = os.environ["DATABASE_URL"]
    with tempfile.TemporaryDirectory(prefix="carnet-bench-") as tmp:
        tmp = Path(tmp)
        os.environ["CARNET_LETTERS_DIR"] = str(tmp / "letters")
        csv_path = tmp / "registry.csv"

        print(f"... database {url.rsplit('/', 1)[1]}: drop, create, migrate", file=sys.stderr, flush=True)
        recreate_database(url)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

        print(f"... generating {args.rows:,} rows (not timed)", file=sys.stderr, flush=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--seed", str(args.seed),
                        "--generate-only", str(csv_path)], check=True)
        generation = time.perf_counter() - start
        size = csv_path.stat().st_size
        rss_before = peak_rss_mib()
        results = run(args, csv_path)
        results.update(generation=generation, csv_size=size, rss_before=rss_before)
        return report(args.rows, results)


def run(args, csv_path: Path) -> dict:
    import psycopg
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from carnet.identity.models import Person, ProvisionalCode
    from carnet.identity.registry import COLUMNS, import_registry
    from carnet.notifications.models import OutboundMessage

    options = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    out: dict = {}

    # 1. The floor: the same bytes through COPY into a table of the same shape, in its own connection.
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        columns = ", ".join(f"{c} date" if c == "birth_date" else f"{c} varchar(200)" for c in COLUMNS)
        conn.execute(f"CREATE TABLE bench_copy ({columns})")
        conn.commit()

        def copy() -> int:
            with conn.cursor() as cur:
                with cur.copy(f"COPY bench_copy ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                    with open(csv_path, "rb") as handle:
                        for block in iter(lambda: handle.read(1 << 20), b""):
                            cp.write(block)
                conn.commit()
                return cur.execute("SELECT count(*) FROM bench_copy").fetchone()[0]

        out["copy_rows"], out["copy"] = timed("COPY", copy)

    # 2. The real import.
    profile = cProfile.Profile() if args.profile else None
    out["first"], out["import"] = timed("import_registry", lambda: import_registry(csv_path, **options), profile)
    if profile:
        profile.dump_stats(args.profile)
    out["rss_import"] = peak_rss_mib()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), coalesce(sum(jsonb_array_length(args_kwargs->'args'->0)), 0) "
                    f"FROM {DBTaskResult._meta.db_table}")
        out["tasks"], out["task_ids"] = cur.fetchone()
    out["counts_first"] = (Person.objects.count(), ProvisionalCode.objects.count(), OutboundMessage.objects.count())

    # 3. The same file again: idempotent.
    out["second"], out["reimport"] = timed("import_registry again", lambda: import_registry(csv_path, **options))
    out["rss_reimport"] = peak_rss_mib()
    out["counts_second"] = (Person.objects.count(), ProvisionalCode.objects.count(), OutboundMessage.objects.count())
    out["letters_db"] = OutboundMessage.objects.filter(channel="letter", status="printed", body_erased=True).count()
    out["emails_db"] = OutboundMessage.objects.filter(channel="email", status="pending").count()
    out["minors_letters"] = ProvisionalCode.objects.exclude(sent_to_id=models_f("person_id")).count()
    pdf = out["first"].letters_pdf
    out["pdf_size"] = pdf.stat().st_size if pdf else 0
    out["pdf_pages"] = pdf_pages(pdf) if pdf else 0
    return out


def models_f(name: str):
    from django.db.models import F

    return F(name)


def report(rows: int, r: dict) -> int:
    first, second = r["first"], r["second"]

    def line(label, seconds, count):
        return f"{label:<28}{count:>12,}{seconds:>12.2f}{count / seconds:>14,.0f}"

    print()
    print(f"registry import benchmark: {rows:,} rows, CSV {r['csv_size'] / 2**20:,.1f} MiB "
          f"(generated in {r['generation']:.1f} s, not timed)")
    print(f"{'':<28}{'rows':>12}{'seconds':>12}{'rows/s':>14}")
    print(line("COPY (plain table)", r["copy"], r["copy_rows"]))
    print(line("import_registry", r["import"], rows))
    print(line("import_registry, 2nd run", r["reimport"], rows))
    print(f"{'import / COPY time':<28}{r['import'] / r['copy']:>38.1f} x  "
          f"(COPY rows/s is {r['import'] / r['copy']:.1f} times the import's)")
    print(f"{'peak RSS':<28}before imports {r['rss_before']:,.0f} MiB, after import {r['rss_import']:,.0f} MiB, "
          f"after re-import {r['rss_reimport']:,.0f} MiB")
    print(f"{'first run':<28}{first.summary()}")
    print(f"{'second run':<28}{second.summary()}")
    print(f"{'letters PDF':<28}{r['pdf_pages']:,} pages, {r['pdf_size'] / 2**20:,.1f} MiB")
    print(f"{'delivery tasks':<28}{r['tasks']:,} tasks carrying {r['task_ids']:,} message ids")
    print(f"{'codes sent to a parent':<28}{r['minors_letters']:,}")

    problems = []

    def expect(what, got, want):
        if got != want:
            problems.append(f"{what}: {got:,} instead of {want:,}")

    expect("COPY rows", r["copy_rows"], rows)
    expect("created", first.created, rows)
    expect("rejected", first.rejected, 0)
    expect("emails + letters", first.emails + first.letters, rows)
    persons, codes, outbox = r["counts_first"]
    expect("persons", persons, rows)
    expect("provisional codes", codes, rows)
    expect("outbox rows", outbox, rows)
    expect("letters printed and erased", r["letters_db"], first.letters)
    expect("emails pending delivery", r["emails_db"], first.emails)
    expect("message ids in delivery tasks", r["task_ids"], first.emails)
    expect("PDF pages", r["pdf_pages"], first.letters)
    expect("2nd run created", second.created, 0)
    expect("2nd run updated", second.updated, 0)
    expect("2nd run unchanged", second.unchanged, rows)
    expect("2nd run rejected", second.rejected, 0)
    expect("2nd run letters", second.letters + second.emails, 0)
    for what, got, want in zip(("persons", "codes", "outbox rows"), r["counts_second"], r["counts_first"],
                               strict=True):
        expect(f"{what} after 2nd run", got, want)
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    print("\nchecks: OK (counts in the database match the file and the reports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
