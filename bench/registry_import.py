"""Benchmark of the registry import against a plain COPY of the same rows.

    .venv/bin/python bench/registry_import.py [--rows N]        (default 1,000,000)

Creates a fresh PostgreSQL database (dropped and recreated on each run; DATABASE_URL overrides
postgres://postgres@127.0.0.1:5432/carnet_bench), migrates it, writes N synthetic valid registry rows
(households: ~80 % of adults with an email, children attached to a parent) to a temporary CSV, then
times, in the same process and the same run:

  1. COPY of the raw CSV into a plain table with the CSV's columns (the floor: no validation at all);
  2. import_registry() end to end: validation, upsert, provisional codes, notices in the outbox,
     the letters PDF of the run, delivery tasks;
  3. import_registry() again on the same file (idempotence: nothing created, everything unchanged).

File generation is not timed. Afterwards the database is checked (one person, one code and one notice
per row, letters printed, delivery tasks for every email, codes in notices that match their hashes)
and the script exits non-zero if anything is off.
"""

import argparse
import cProfile
import datetime as dt
import itertools
import os
import platform
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


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu_seconds(postmaster: int | None) -> float | None:
    """CPU time of the whole PostgreSQL server when it runs on this machine: the postmaster, its live
    children (backends, WAL writer, checkpointer...) and the children it has reaped (closed
    connections). Whatever else the server does meanwhile counts too."""
    if postmaster is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def generate(path: Path, rows: int, seed: int) -> None:
    """Runs in a child process (see --generate-only) so that its set of NIRs stays out of our peak RSS."""
    from carnet.identity.synthetic import People, write_csv

    people = People(seed=seed)
    write_csv(path, itertools.islice(people.families(rows, dt.date.today()), rows))


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def pdf_pages(path: Path) -> int:
    """Page count from the page tree's root (/Type /Pages ... /Count N), read without a PDF library."""
    counts = []
    with open(path, "rb") as handle:
        tail = b""
        for block in iter(lambda: handle.read(1 << 20), b""):
            data = tail + block
            counts += [int(m.group(1)) for m in re.finditer(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
            counts += [int(m.group(1)) for m in re.finditer(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data)]
            tail = data[-200:]
    return max(counts, default=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk-size", type=int, default=None, help="passed to import_registry if given")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the first import to FILE")
    parser.add_argument("--generate-only", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args()

    # The real settings, outside demo and test mode: database task queue, no mail leaves (delivery is
    # the worker's job, and no worker runs here), letters in a temporary folder.
    for name in ("CARNET_DEMO", "CARNET_TESTING", "DEBUG"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "carnet.settings"
    os.environ["SECRET_KEY"] = "bench-only-secret-key-not-for-production-0123456789"
    os.environ["CARNET_TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(PROJECT))

    import django

    if args.generate_only:
        django.setup()
        generate(Path(args.generate_only), args.rows, args.seed)
        return 0

    url = os.environ["DATABASE_URL"]
    with tempfile.TemporaryDirectory(prefix="carnet-bench-") as tmp:
        tmp = Path(tmp)
        os.environ["CARNET_LETTERS_DIR"] = str(tmp / "letters")
        csv_path = tmp / "registry.csv"

        step(f"database {url.rsplit('/', 1)[1]}: drop, create, migrate")
        recreate_database(url)
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

        step(f"generating {args.rows:,} rows (not timed)")
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--seed", str(args.seed),
                        "--generate-only", str(csv_path)], check=True)
        results = {"generation": time.perf_counter() - start, "csv_size": csv_path.stat().st_size,
                   "rss_before": peak_rss_mib()}
        results.update(run(args, csv_path))
        return report(args.rows, results)


def step(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


def run(args, csv_path: Path) -> dict:
    import psycopg
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from carnet.identity.actions.codes import usable_code
    from carnet.identity.models import Person, ProvisionalCode
    from carnet.identity.registry import COLUMNS, import_registry
    from carnet.notifications.models import OutboundMessage

    options = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    out: dict = {}
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_setting('data_directory')")
        out["server"], data_directory = cur.fetchone()
    try:
        postmaster = int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError):
        postmaster = None  # a server elsewhere: its CPU time is not reported

    def wal_position() -> str:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()")
            return cur.fetchone()[0]

    def wal_since(start: str) -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [start])
            return int(cur.fetchone()[0])

    def timed(label: str, func, profile: cProfile.Profile | None = None) -> dict:
        step(label)
        wal, cpu, server_cpu = wal_position(), cpu_seconds(), server_cpu_seconds(postmaster)
        start = time.perf_counter()
        value = profile.runcall(func) if profile else func()
        seconds = time.perf_counter() - start
        server_after = server_cpu_seconds(postmaster)
        return {"value": value, "seconds": seconds, "cpu": cpu_seconds() - cpu, "wal": wal_since(wal),
                "server_cpu": None if server_cpu is None else server_after - server_cpu}

    # 1. The floor: the same bytes through COPY into a table of the same shape, in its own connection.
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        columns = ", ".join(f"{c} date" if c == "birth_date" else f"{c} varchar(200)" for c in COLUMNS)
        conn.execute(f"CREATE TABLE bench_copy ({columns})")
        conn.commit()

        def copy() -> int:
            with conn.cursor() as cur:
                sql = f"COPY bench_copy ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
                with cur.copy(sql) as stream, open(csv_path, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        stream.write(block)
                conn.commit()
                return cur.execute("SELECT count(*) FROM bench_copy").fetchone()[0]

        out["copy"] = timed("COPY", copy)

    # 2. The real import.
    profile = cProfile.Profile() if args.profile else None
    out["first"] = timed("import_registry", lambda: import_registry(csv_path, **options), profile)
    if profile:
        profile.dump_stats(args.profile)
    out["rss_import"] = peak_rss_mib()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), coalesce(sum(jsonb_array_length(args_kwargs->'args'->0)), 0) "
                    f"FROM {DBTaskResult._meta.db_table}")
        out["tasks"], out["task_ids"] = cur.fetchone()
    out["counts_first"] = (Person.objects.count(), ProvisionalCode.objects.count(), OutboundMessage.objects.count())
    # Codes as people will type them: taken from a few emails, checked against the stored hashes.
    sample = OutboundMessage.objects.filter(channel="email").select_related("person").order_by("?")[:20]
    found = [re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b", m.body) for m in sample]
    out["codes_checked"] = len(sample)
    out["codes_valid"] = sum(1 for m, code in zip(sample, found, strict=True)
                             if code and usable_code(m.person, code.group(0)))

    # 3. The same file again: idempotent.
    out["second"] = timed("import_registry again", lambda: import_registry(csv_path, **options))
    out["rss_reimport"] = peak_rss_mib()
    out["counts_second"] = (Person.objects.count(), ProvisionalCode.objects.count(), OutboundMessage.objects.count())
    out["letters_db"] = OutboundMessage.objects.filter(channel="letter", status="printed", body_erased=True).count()
    out["emails_db"] = OutboundMessage.objects.filter(channel="email", status="pending").count()
    out["to_parents"] = ProvisionalCode.objects.exclude(sent_to_id=models_f("person_id")).count()
    pdf = out["first"]["value"].letters_pdf
    out["pdf_size"] = pdf.stat().st_size if pdf else 0
    out["pdf_pages"] = pdf_pages(pdf) if pdf else 0
    return out


def models_f(name: str):
    from django.db.models import F

    return F(name)


def report(rows: int, r: dict) -> int:
    copy, first, second = r["copy"], r["first"], r["second"]
    one, two = first["value"], second["value"]

    def line(label: str, timing: dict, count: int) -> str:
        server = "" if timing["server_cpu"] is None else f"{timing['server_cpu']:>11.1f}"
        return (f"{label:<26}{count:>11,}{timing['seconds']:>10.2f}{count / timing['seconds']:>11,.0f}"
                f"{timing['cpu']:>12.1f}{server}{timing['wal'] / 2**20:>10,.0f}")

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print()
    print(f"registry import benchmark: {rows:,} rows, CSV {r['csv_size'] / 2**20:,.1f} MiB "
          f"(generated in {r['generation']:.1f} s, not timed)")
    print(f"machine: {os.cpu_count()} CPUs, {memory:.0f} GiB, Python {platform.python_version()}, "
          f"PostgreSQL {r['server']}")
    print(f"{'':<26}{'rows':>11}{'seconds':>10}{'rows/s':>11}{'Python CPU':>12}{'server CPU':>11}{'WAL MiB':>10}")
    print(line("COPY (plain table)", copy, copy["value"]))
    print(line("import_registry", first, rows))
    print(line("import_registry, 2nd run", second, rows))
    print(f"{'':<26}(CPU seconds: Python = this process; server = every PostgreSQL process, whatever it ran)")
    print(f"{'import vs COPY':<26}the import takes {first['seconds'] / copy['seconds']:.0f} times as long "
          f"({rows / first['seconds'] / (copy['value'] / copy['seconds']):.1%} of COPY's rows/s)")
    print(f"{'peak RSS':<26}{r['rss_before']:,.0f} MiB before the imports, {r['rss_import']:,.0f} MiB after the "
          f"first, {r['rss_reimport']:,.0f} MiB after the second")
    print(f"{'first run':<26}{one.summary()}")
    print(f"{'second run':<26}{two.summary()}")
    print(f"{'letters PDF':<26}{r['pdf_pages']:,} pages, {r['pdf_size'] / 2**20:,.1f} MiB")
    print(f"{'delivery tasks':<26}{r['tasks']:,} tasks carrying {r['task_ids']:,} message ids")
    print(f"{'codes sent to a parent':<26}{r['to_parents']:,}")
    print(f"{'codes from emails':<26}{r['codes_valid']} of {r['codes_checked']} match their stored hash")

    problems = []

    def expect(what: str, got: int, want: int) -> None:
        if got != want:
            problems.append(f"{what}: {got:,} instead of {want:,}")

    expect("COPY rows", copy["value"], rows)
    expect("created", one.created, rows)
    expect("rejected", one.rejected, 0)
    expect("emails + letters", one.emails + one.letters, rows)
    persons, codes, outbox = r["counts_first"]
    expect("persons", persons, rows)
    expect("provisional codes", codes, rows)
    expect("outbox rows", outbox, rows)
    expect("letters printed and erased", r["letters_db"], one.letters)
    expect("emails pending delivery", r["emails_db"], one.emails)
    expect("message ids in delivery tasks", r["task_ids"], one.emails)
    expect("PDF pages", r["pdf_pages"], one.letters)
    expect("codes matching their hash", r["codes_valid"], r["codes_checked"])
    expect("2nd run created", two.created, 0)
    expect("2nd run updated", two.updated, 0)
    expect("2nd run unchanged", two.unchanged, rows)
    expect("2nd run rejected", two.rejected, 0)
    expect("2nd run notices", two.letters + two.emails, 0)
    for what, got, want in zip(("persons", "codes", "outbox rows"), r["counts_second"], r["counts_first"],
                               strict=True):
        expect(f"{what} after the 2nd run", got, want)
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    print("\nchecks: OK (the database matches the file and both reports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
