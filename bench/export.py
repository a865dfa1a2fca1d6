"""Benchmark of the holder's export (carnet/export): time and peak memory of building one export at 100 and at
1,000 documents, in the same run.

    .venv/bin/python bench/export.py [--small N] [--large N]        (defaults 100 / 1,000)
    CARNET_BENCH_PROFILE=/tmp/export.prof .venv/bin/python bench/export.py   (a cProfile of each build, no
    tracemalloc: /tmp/export.prof.<export id>)

Uses a PostgreSQL database that it drops, recreates and migrates (DATABASE_URL overrides
postgres://postgres@127.0.0.1:5432/carnet_bench_export), with the real settings outside demo and test mode (a
random master key, the vault in a temporary folder, the django_tasks_db queue). For each size, not timed: one
active person, N documents of about 30 KB (the ci-sis-2.41 VAC-NOTE_2021.01.xml example from ../shared/samples
with a distinct comment appended, so each has its own hash), each stored through vault.store with its Document
row and one access event, a small medical profile, and a pending Export row. Then a child process (fresh, so
its peak resident memory is the build's alone) runs `carnet.export.actions.build` and reports wall time, CPU
time, peak RSS (getrusage ru_maxrss) and, with CARNET_BENCH_TRACEMALLOC=1, the peak of Python allocations
(tracemalloc; it slows the build, so the timed runs go without). The parent then checks
the file: decrypted from the vault, N entries in METADATA.XML, N DocumentReference and N Binary in the Bundle,
a PDF. Exit 1 if a check fails, 2 if a target is missed: the large export under 60 s, and peak RSS at the
large size no more than 1.25 x the small one (streaming: memory does not grow with the documents).
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import record as base  # noqa: E402 - bench/record.py: settings, database and output helpers

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/carnet_bench_export"
SAMPLE = PROJECT.parent / "shared" / "samples" / "cda" / "ci-sis-2.41" / "VAC-NOTE_2021.01.xml"
TARGET_SECONDS = 60.0
TARGET_MEMORY_RATIO = 1.25
step = base.step


def fill(count: int, number: int) -> int:
    """One active person with `count` documents, a profile and a pending export; returns the export's id."""
    import datetime as dt

    from django.utils import timezone

    from carnet.export.models import Export
    from carnet.identity.enums import SpaceStatus
    from carnet.identity.models import Person
    from carnet.identity.synthetic import People
    from carnet.medical.actions import entries
    from carnet.medical.enums import Section
    from carnet.record.models import Document
    from carnet.sharing import events
    from carnet.vault import services as vault

    people = People(seed=number)
    birth = dt.date(1970 + number, 5, 17)
    row = people.row(birth=birth, email=True, parent=None)
    row.pop("parent_nir")
    person = Person.objects.create(**dict(row, birth_date=birth, status=SpaceStatus.ACTIVE))
    sample = SAMPLE.read_bytes()
    for index in range(count):
        data = sample + f"\n<!-- copie {number}-{index} -->\n".encode()
        with vault.atomic():
            blob = vault.store(person, data)
            document = Document.objects.create(
                person=person, blob=blob, type_code="87273-9", type_system="2.16.840.1.113883.6.1", class_code="10",
                category="other", title=f"Note de vaccination {index}", source="professional",
                author_kind="professional", author_label="Charles MULLER", author_identifier="01234567897",
                format="cda", mime_type="text/xml", size=blob.size, sha256=blob.sha256,
                act_date=timezone.now() - dt.timedelta(days=index), unique_id=f"1.2.250.1.999.{number}.{index}")
            events.record(person, actor=person, role="holder", action="document.add",
                          subject=f"document:{document.uuid}")
    entries.add_entry(person, person, Section.ALLERGIES, {"label": "Arachide"})
    entries.add_entry(person, person, Section.VACCINATIONS, {"vaccine": "mmr", "date": "2020", "dose": 1})
    return Export.objects.create(person=person, target=person, spaces=[str(person.uuid)]).pk


def child(export_id: int) -> None:
    """Build one export and print the figures as JSON (run in a fresh process)."""
    import django

    django.setup()
    from django.urls import reverse

    from carnet.export.actions import build

    reverse("portal:export")  # a worker has its URLconf loaded: not part of the build's time
    import carnet.export.archive  # noqa: F401 - nor are the first imports
    import carnet.medical.actions.entries  # noqa: F401

    profile = os.environ.get("CARNET_BENCH_PROFILE")
    traced = bool(os.environ.get("CARNET_BENCH_TRACEMALLOC")) and not profile
    if traced:  # slows Python code two- to threefold: off for the timed runs
        tracemalloc.start()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        outcome = profiler.runcall(build, export_id)
        profiler.dump_stats(f"{profile}.{export_id}")
    else:
        outcome = build(export_id)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _current, peak = tracemalloc.get_traced_memory() if traced else (0, 0)
    print(json.dumps({"outcome": outcome, "seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime - cpu,
                      "peak_rss_mib": usage.ru_maxrss / 1024, "python_peak_mib": peak / 2 ** 20}))


def check(export_id: int, count: int) -> list[str]:
    from carnet.export.models import Export
    from carnet.vault import services as vault

    export = Export.objects.get(pk=export_id)
    problems = []
    if export.status != "ready" or export.document_count != count:
        return [f"export {export.status} with {export.document_count} documents, expected ready with {count}"]
    with tempfile.TemporaryFile() as fh:
        for piece in vault.iter_plaintext(export.blob):
            fh.write(piece)
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            metadata = archive.read("IHE_XDM/SUBSET01/METADATA.XML").decode()
            if metadata.count("<rim:ExtrinsicObject ") != count:
                problems.append("METADATA.XML entries")
            bundle = json.loads(archive.read("FHIR/ESPACE01.json"))
            kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
            if kinds.count("DocumentReference") != count or kinds.count("Binary") != count:
                problems.append("Bundle documents")
            if not archive.read("SYNTHESE/ESPACE01.pdf").startswith(b"%PDF"):
                problems.append("PDF")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=1_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(PROJECT))
        child(args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="carnet-bench-export-") as tmp:
        url = base.real_settings(Path(tmp), DEFAULT_URL)
        step(f"database {url.rsplit('/', 1)[1]}: drop, create, migrate")
        base.recreate_database(url)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        figures, problems = {}, []
        for number, count in enumerate((args.small, args.large), start=1):
            step(f"filling {count:,} documents (not timed)")
            export_id = fill(count, number)
            connections.close_all()
            step(f"building the export of {count:,} documents in a child process")
            done = subprocess.run([sys.executable, __file__, "--child", str(export_id)], capture_output=True,
                                  text=True, env=os.environ.copy(), check=False)
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return 1
            figures[count] = json.loads(done.stdout.strip().splitlines()[-1])
            figures[count]["size_mib"] = None
            problems += [f"{count}: {p}" for p in check(export_id, count)]
            from carnet.export.models import Export

            figures[count]["size_mib"] = Export.objects.get(pk=export_id).size / 2 ** 20
        small, large = figures[args.small], figures[args.large]
        print(f"# carnet export bench — {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(f"load average after: {os.getloadavg()}")
        print("| documents | wall s | CPU s | docs/s | peak RSS MiB | Python peak MiB | file MiB |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for count, f in figures.items():
            print(f"| {count:,} | {f['seconds']:.2f} | {f['cpu']:.2f} | {count / f['seconds']:.0f} | "
                  f"{f['peak_rss_mib']:.1f} | {f['python_peak_mib']:.1f} | {f['size_mib']:.1f} |")
        ratio = large["peak_rss_mib"] / small["peak_rss_mib"]
        traced = (f" (Python allocations: {large['python_peak_mib'] / small['python_peak_mib']:.2f})"
                  if small["python_peak_mib"] else "")
        print(f"peak RSS ratio {args.large:,} / {args.small:,} documents: {ratio:.2f}{traced}")
        if problems:
            print("CHECKS FAILED: " + "; ".join(problems))
            return 1
        missed = []
        if large["seconds"] >= TARGET_SECONDS:
            missed.append(f"{args.large:,} documents in {large['seconds']:.1f} s (target < {TARGET_SECONDS:.0f} s)")
        if ratio > TARGET_MEMORY_RATIO:
            missed.append(f"peak RSS ratio {ratio:.2f} (target <= {TARGET_MEMORY_RATIO})")
        print("checks passed" + ("; targets missed: " + "; ".join(missed) if missed else "; targets met"))
        return 2 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
