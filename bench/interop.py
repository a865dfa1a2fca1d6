"""Benchmark of document sharing for clinical software: ITI-65 ingest and the DMP migration (XDM import).

    .venv/bin/python bench/interop.py [--bundles N] [--xdm N]                      (defaults 1,000 / 500)
    .venv/bin/python bench/interop.py --quick                                      (100 / 100)
    .venv/bin/python bench/interop.py --workers 2                                  (2 processes each side)
    .venv/bin/python bench/interop.py --workers 2 --web-workers 3                  (2 clients, 3 gunicorn workers)
    .venv/bin/python bench/interop.py --bundles 600 --profile FILE                 (a CPU cProfile, in-process)

Uses a PostgreSQL database that it drops, recreates and migrates (DATABASE_URL overrides
postgres://postgres@127.0.0.1:5432/carnet_bench), with the real settings outside demo and test mode (as
bench/record.py: a random master key, the vault in a temporary folder), except CARNET_ACCEPT_TEST_INS=1: the
CI-SIS sample carries a test INS. In the same run:

(a) ITI-65. N single-document transaction Bundles, each a 30 KB CDA: the CI-SIS 3.0 example
    BIO-TROD_2024.01_Cystite.xml (/work/shared/samples/cda/ci-sis-3.0/, 30,899 bytes, INS 279035121518989)
    made distinct by an XML comment after its declaration, with its PDSm DocumentReference and SubmissionSet
    (tests/fhir/pdsm_bundles.py). The JSON bodies are encoded before the clock starts. Two ways, interleaved in
    rounds of 50 so that a change in the machine's load hits both alike, each for its own person:
      1. raw: SHA-256, AES-256-GCM with the person's data key (read once), the file written to the vault
         storage as vault.store writes it (`vault.services.write_file`) and one INSERT of a Document row,
         committed per document (bench/record.py's floor);
      2. ITI-65: POST /fhir/ with a professional's bearer token over HTTP to gunicorn (sync workers, the app
         loaded before forking; the settings' persistent database connections, DATABASE_CONN_MAX_AGE 600, unless
         the environment sets it): authentication, body read, JSON parse, PDSm checks (value sets, SHA-1 and
         size), INS lookup, the policy for the sender and the author, format check and CDA header indexing, vault,
         rows, access event, notification, the transaction-response Bundle. --in-process sends them through
         Django's test Client in the bench's own process(es) instead (no HTTP server), which --profile implies.
    With --workers W (W > 1): W client processes forked from this one post concurrently, each for its own person
    (the CDA's and the bundle's INS replaced by that person's NIR), to --web-workers gunicorn workers (W by
    default); the raw side runs with the same W processes, on W other persons.
(b) XDM import. An IHE XDM archive of M copies of the same CDA (distinct, as above) for the same person, built
    with tests/interop/xdm_archives.py, imported with `carnet import_dmp` (call_command), then imported again
    (idempotent: nothing new).

Checks (exit 1 if one fails): counts of documents, blobs, submission sets, events; a sample read back through
ITI-68 (GET /fhir/Binary/<id>) equal to what was sent; the access-event chain verifies. Exit 2 when all checks
pass but ITI-65 is under the target of 300 documents/s.
"""

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from contextlib import redirect_stdout
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(PROJECT))

import record as base  # noqa: E402 - bench/record.py: database, CPU and person helpers

CDA = Path("/work/shared/samples/cda/ci-sis-3.0/BIO-TROD_2024.01_Cystite.xml")
INS = "279035121518989"
RPPS = "10101201234"
ROUND = 50
TARGET = 300.0


def _add_server_cpu(total: dict, server, web_cpu: float, facts: dict, server_cpu: float | None) -> None:
    """Add to one way's totals the CPU its servers spent since the readings taken before it: gunicorn's (ITI-65
    through HTTP: `server`, else None) and PostgreSQL's (None when it cannot be read)."""
    if server is not None:
        gunicorn_cpu = server.cpu() - web_cpu
        total["cpu"] += gunicorn_cpu
        total["web_cpu"] = total.get("web_cpu", 0.0) + gunicorn_cpu
    after = base.server_cpu_seconds(facts["postmaster"])
    total["server_cpu"] = None if after is None else (total["server_cpu"] or 0) + after - server_cpu

def variants(count: int, tag: str, ins: str = INS) -> list[bytes]:
    """`count` distinct copies of the sample CDA: an XML comment after the declaration (the header unchanged but
    for the patient's INS when another is given: --workers files for one person per worker)."""
    data = CDA.read_bytes().replace(INS.encode(), ins.encode())
    end = data.index(b"?>") + 2
    return [data[:end] + f"\n<!-- {tag} {i} -->".encode() + data[end:] for i in range(count)]


def bundles(contents: list[bytes], ins: str = INS, first: int = 0) -> list[bytes]:
    from tests.fhir import pdsm_bundles as pdsm

    out = []
    for i, content in enumerate(contents, start=first):
        reference = pdsm.document_reference(content, unique_id=f"1.2.250.1.999.77.{i + 1}", ins=ins,
                                            binary_url=f"urn:uuid:{uuid.uuid4()}")
        out.append(json.dumps(pdsm.bundle([(reference, content)], set_id=f"urn:uuid:{uuid.uuid4()}", ins=ins,
                                          unique_id=f"urn:oid:1.2.250.1.999.78.{i + 1}")).encode())
    return out


def run_ingest(args) -> dict:
    from django.db import transaction

    from carnet.identity.enums import SpaceStatus
    from carnet.identity.models import Person
    from carnet.interop import terminology
    from carnet.record.enums import AuthorKind, DocumentFormat, DocumentSource
    from carnet.record.models import Document, SubmissionSet
    from carnet.sharing.events import verify_chain
    from carnet.sharing.models import AccessEvent, Professional
    from carnet.sharing.tokens import issue_professional_token
    from carnet.vault import services as vault
    from carnet.vault.crypto import encrypt_chunks
    from carnet.vault.keys import data_key_for
    from carnet.vault.models import Blob

    values = base.person_values(1)
    values["nir"] = INS
    person = Person.objects.create(status=SpaceStatus.ACTIVE, **values)
    raw_person = Person.objects.create(status=SpaceStatus.ACTIVE, **base.person_values(2))
    warm = Person.objects.create(status=SpaceStatus.ACTIVE, **base.person_values(9))
    professional = Professional.objects.create(rpps=RPPS, family_name="Leclerc", given_names="Sophie",
                                               profession_code="10")
    _row, token = issue_professional_token(professional)
    base.step(f"building {args.bundles:,} bundles and as many raw documents (not timed)")
    contents = variants(args.bundles, "iti65")
    bodies = bundles(contents)
    raw_contents = variants(args.bundles, "raw")
    out: dict = {"body_bytes": sum(len(b) for b in bodies) / len(bodies), "doc_bytes": len(contents[0])}

    doc_type = terminology.document_type("96173-0")
    metadata = {"type_code": doc_type.code, "type_system": doc_type.system, "class_code": "52",
                "category": terminology.category_for_type(doc_type.code), "source": DocumentSource.PROFESSIONAL,
                "author_kind": AuthorKind.PROFESSIONAL, "format": DocumentFormat.CDA, "mime_type": "text/xml",
                "format_code": "urn:asipSante:modelesHorsProfils:2011", "author_identifier": RPPS}
    key = data_key_for(raw_person)
    storage = vault.storage()

    def raw(i: int) -> None:
        data = raw_contents[i]
        digest = hashlib.sha256(data).hexdigest()
        blob_id = uuid.uuid4()
        sealed = b"".join(encrypt_chunks(key, blob_id.bytes, [data]))
        with transaction.atomic():
            vault.write_file(storage, f"{raw_person.uuid}/{blob_id.hex}", [sealed])  # as vault.store writes
            Document.objects.create(person=raw_person, title="TROD", size=len(data), sha256=digest,
                                    unique_id=f"1.2.250.1.999.79.{i + 1}", **metadata)

    web = base.client()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    statuses: dict[int, int] = {}
    server = None if args.in_process else WebServer(args.web_workers or 1, args.worker_class)

    def iti65(i: int) -> None:
        if server is not None:
            status, answer = server.post_bundle(bodies[i], token)
        else:
            response = web.post("/fhir/", bodies[i], content_type="application/fhir+json", headers=headers,
                                secure=True)
            status, answer = response.status_code, response.content
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200 and statuses[status] <= 3:
            base.step(f"bundle {i + 1}: HTTP {status} {answer[:300]!r}")

    # A worker has its URLconf and modules loaded and its connection open: a few requests before the clock.
    web.get("/fhir/metadata", headers=headers, secure=True)
    warm_up(server, web, headers, token, warm.nir, 3)
    ways = {"raw": raw, "iti65": iti65}
    totals = {name: {"seconds": 0.0, "cpu": 0.0, "server_cpu": 0.0} for name in ways}
    facts = base.server_facts()
    profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
    base.step(f"ingest: {args.bundles:,} documents each way, in rounds of {ROUND}, ITI-65 "
              + ("in this process (test Client)" if server is None else "through gunicorn (1 worker)"))
    for begin in range(0, args.bundles, ROUND):
        batch = range(begin, min(begin + ROUND, args.bundles))
        for name, func in ways.items():
            cpu, server_cpu = base.cpu_seconds(), base.server_cpu_seconds(facts["postmaster"])
            web_cpu = server.cpu() if server is not None and name == "iti65" else 0.0
            start = time.perf_counter()
            if profile is not None and name == "iti65":
                profile.enable()
            for i in batch:
                func(i)
            if profile is not None and name == "iti65":
                profile.disable()
            totals[name]["seconds"] += time.perf_counter() - start
            totals[name]["cpu"] += base.cpu_seconds() - cpu
            _add_server_cpu(totals[name], server if name == "iti65" else None, web_cpu, facts, server_cpu)
    if profile is not None:
        profile.dump_stats(args.profile)
    if server is not None:
        server.stop()
    out["ways"], out["statuses"], out["facts"] = totals, statuses, facts
    out["web"] = "in-process" if server is None else "gunicorn"

    base.step("checking what ITI-65 stored")
    documents = Document.objects.filter(person=person)
    sample = list(documents.order_by("?")[:20])
    good = 0
    for document in sample:
        response = web.get(f"/fhir/Binary/{document.uuid}", headers={**headers, "Accept": "*/*"}, secure=True)
        index = int(document.unique_id.rsplit(".", 1)[1]) - 1
        good += response.status_code == 200 and b"".join(response.streaming_content) == contents[index]
    out["checks"] = {
        "HTTP 200 answers": (statuses.get(200, 0), args.bundles),
        "ITI-65 documents": (documents.count(), args.bundles),
        "ITI-65 blobs": (Blob.objects.filter(person=person).count(), args.bundles),
        "submission sets": (SubmissionSet.objects.filter(person=person).count(), args.bundles),
        "document.add events": (AccessEvent.objects.filter(person=person, action="document.add").count(),
                                args.bundles),
        "raw documents": (Document.objects.filter(person=raw_person).count(), args.bundles),
        "sample read back through ITI-68": (good, len(sample)),
        "event chain verifies": (verify_chain(person), True),
    }
    return out


class WebServer:
    """gunicorn (sync workers, as a plain deployment runs Django) serving this run's settings and database on a free
    local port, `workers` processes, app loaded before forking (`--preload`). Behind a TLS-terminating proxy as in
    production (`BEHIND_PROXY=1`: the bench sends `X-Forwarded-Proto: https`) and with persistent database
    connections (`DATABASE_CONN_MAX_AGE` 600 s, the settings' default, unless set in the environment; 0 opens a
    PostgreSQL connection per request).
    `cpu()`: CPU seconds of the master and its workers (live and reaped)."""

    def __init__(self, workers: int, worker_class: str = "sync"):
        import socket
        import subprocess

        self._connections: dict = {}
        self.worker_class = worker_class

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {"DATABASE_CONN_MAX_AGE": "600", **os.environ, "BEHIND_PROXY": "1",
               "DJANGO_SETTINGS_MODULE": "carnet.settings", "PYTHONPATH": str(PROJECT)}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "carnet.wsgi:application", "--workers", str(workers),
             "--worker-class", worker_class, "--bind", f"127.0.0.1:{self.port}", "--preload", "--timeout", "120",
             "--keep-alive", "30", "--log-level", "warning"], cwd=PROJECT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _body = self.request("GET", "/fhir/metadata", b"", {})
                if status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)

    def request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        """One request, on this process's (and thread's) connection: gunicorn's sync workers close it after each
        answer (http.client then opens a new one for the next request), a gthread worker keeps it open."""
        import http.client
        import threading

        key = (os.getpid(), threading.get_ident())
        connection = self._connections.get(key)
        if connection is None:
            connection = self._connections[key] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers={
                "Host": "localhost", "X-Forwarded-Proto": "https", **headers})
            response = connection.getresponse()
            return response.status, response.read()
        except BaseException:
            connection.close()
            raise

    def post_bundle(self, body: bytes, token: str) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json",
                   "Content-Type": "application/fhir+json"}
        if self.worker_class != "sync":
            return self.request("POST", "/fhir/", body, headers)
        return self.post_lean(body, headers)

    def post_lean(self, body: bytes, headers: dict) -> tuple[int, bytes]:
        """The same HTTP/1.1 request as `request`, written by hand on a new socket and read to the end (a sync
        worker closes the connection after its answer): http.client's header handling and response parsing cost
        the bench's client processes, on the same two cores as the server, 0.3-0.5 ms of CPU per request."""
        import socket

        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (f"POST /fhir/ HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\n{head}"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode("latin-1")
        with socket.create_connection(("127.0.0.1", self.port), timeout=120) as sock:
            sent = sock.sendmsg([request, body])
            if sent < len(request) + len(body):  # a short write: the rest
                sock.sendall((request + body)[sent:])
            chunks = []
            while data := sock.recv(1 << 16):
                chunks.append(data)
        answer = b"".join(chunks)
        head_bytes, _sep, content = answer.partition(b"\r\n\r\n")
        if not head_bytes.startswith(b"HTTP/1.1 "):
            raise OSError(f"not an HTTP answer: {answer[:80]!r}")
        return int(head_bytes[9:12]), content

    def cpu(self) -> float:
        return base.server_cpu_seconds(self.process.pid) or 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def warm_up(server: WebServer | None, web, headers: dict, token: str, warm_nir: str, count: int) -> None:
    """Requests for a person of its own before the clock, so that each web worker has its modules loaded, its
    URLconf built and its database connection open, as long-lived workers have."""
    warm = bundles(variants(count, "warm", warm_nir), warm_nir, first=10_000)
    if server is None:
        for body in warm:
            response = web.post("/fhir/", body, content_type="application/fhir+json", headers=headers, secure=True)
            assert response.status_code == 200, response.content[:300]
        return
    # Several at once: a busy sync worker leaves the next connection to another, so that every worker gets some.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, count // 3)) as pool:
        for status, answer in pool.map(lambda body: server.post_bundle(body, token), warm):
            assert status == 200, answer[:300]


_JOBS: dict = {}  # --workers: what the forked workers run (set before forking, inherited, never pickled)


def _worker(way: str, w: int, indices: list[int], barrier, results) -> None:
    """One worker process: its own database connection (opened before the clock), then its share of a round."""
    from django.db import connection

    connection.ensure_connection()
    func = _JOBS[way]
    statuses: dict[int, int] = {}
    barrier.wait()
    cpu, start = base.cpu_seconds(), time.perf_counter()
    for i in indices:
        func(w, i, statuses)
    results.put((time.perf_counter() - start, base.cpu_seconds() - cpu, statuses))
    connection.close()


def run_parallel(args) -> dict:
    """--workers W: W processes forked from this one (each with its own connection and test Client, i.e. Django's
    WSGI handler in-process), each filing for its own person (one INS per worker), posting concurrently; the raw
    side runs with the same W processes on W other persons. Rounds of ROUND documents per worker alternate the
    two ways. The clock runs from the moment all W are connected and ready to the last one's end."""
    import multiprocessing

    from django.db import connections, transaction

    from carnet.identity.enums import SpaceStatus
    from carnet.identity.models import Person
    from carnet.interop import terminology
    from carnet.record.enums import AuthorKind, DocumentFormat, DocumentSource
    from carnet.record.models import Document, SubmissionSet
    from carnet.sharing.events import verify_chain
    from carnet.sharing.models import AccessEvent, Professional
    from carnet.sharing.tokens import issue_professional_token
    from carnet.vault import services as vault
    from carnet.vault.crypto import encrypt_chunks
    from carnet.vault.keys import data_key_for
    from carnet.vault.models import Blob

    workers = args.workers
    per = args.bundles // workers
    persons = [Person.objects.create(status=SpaceStatus.ACTIVE, **base.person_values(10 + w)) for w in range(workers)]
    raw_persons = [Person.objects.create(status=SpaceStatus.ACTIVE, **base.person_values(100 + w))
                   for w in range(workers)]
    warm = Person.objects.create(status=SpaceStatus.ACTIVE, **base.person_values(9))
    professional = Professional.objects.create(rpps=RPPS, family_name="Leclerc", given_names="Sophie",
                                               profession_code="10")
    _row, token = issue_professional_token(professional)
    base.step(f"building {per * workers:,} bundles and as many raw documents for {workers} workers (not timed)")
    contents = [variants(per, f"iti65-{w}", persons[w].nir) for w in range(workers)]
    bodies = [bundles(contents[w], persons[w].nir) for w in range(workers)]
    raw_contents = [variants(per, f"raw-{w}") for w in range(workers)]
    out: dict = {"body_bytes": sum(len(b) for b in bodies[0]) / per, "doc_bytes": len(contents[0][0]),
                 "workers": workers}
    doc_type = terminology.document_type("96173-0")
    metadata = {"type_code": doc_type.code, "type_system": doc_type.system, "class_code": "52",
                "category": terminology.category_for_type(doc_type.code), "source": DocumentSource.PROFESSIONAL,
                "author_kind": AuthorKind.PROFESSIONAL, "format": DocumentFormat.CDA, "mime_type": "text/xml",
                "format_code": "urn:asipSante:modelesHorsProfils:2011", "author_identifier": RPPS}
    keys = [data_key_for(p) for p in raw_persons]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    clients: dict = {}

    def raw(w: int, i: int, statuses: dict) -> None:
        data, person = raw_contents[w][i], raw_persons[w]
        digest = hashlib.sha256(data).hexdigest()
        blob_id = uuid.uuid4()
        sealed = b"".join(encrypt_chunks(keys[w], blob_id.bytes, [data]))
        with transaction.atomic():
            vault.write_file(vault.storage(), f"{person.uuid}/{blob_id.hex}", [sealed])  # as vault.store writes
            Document.objects.create(person=person, title="TROD", size=len(data), sha256=digest,
                                    unique_id=f"1.2.250.1.999.79.{i + 1}", **metadata)

    server = None if args.in_process else WebServer(args.web_workers or workers, args.worker_class)

    def iti65(w: int, i: int, statuses: dict) -> None:
        if server is not None:
            status, answer = server.post_bundle(bodies[w][i], token)
        else:
            web = clients.setdefault(os.getpid(), base.client())
            response = web.post("/fhir/", bodies[w][i], content_type="application/fhir+json", headers=headers,
                                secure=True)
            status, answer = response.status_code, response.content
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200 and statuses[status] <= 3:
            base.step(f"worker {w} bundle {i + 1}: HTTP {status} {answer[:300]!r}")

    # Warm web workers, as long-lived ones are: in-process, the parent loads every module of the path once (the
    # forked clients inherit it); through gunicorn, a few bundles per worker (for a person of its own).
    web = base.client()
    web.get("/fhir/metadata", headers=headers, secure=True)
    warm_up(server, web, headers, token, warm.nir, 1 if server is None else 6 * (args.web_workers or workers))
    _JOBS.update(raw=raw, iti65=iti65)
    context = multiprocessing.get_context("fork")
    totals = {name: {"seconds": 0.0, "cpu": 0.0, "server_cpu": 0.0} for name in ("raw", "iti65")}
    statuses: dict[int, int] = {}
    facts = base.server_facts()
    base.step(f"ingest: {per * workers:,} documents each way, {workers} workers, rounds of {ROUND} per worker")
    for begin in range(0, per, ROUND):
        indices = list(range(begin, min(begin + ROUND, per)))
        for name in ("raw", "iti65"):
            connections.close_all()  # a forked child must not share the parent's connection
            barrier, results = context.Barrier(workers + 1), context.Queue()
            processes = [context.Process(target=_worker, args=(name, w, indices, barrier, results))
                         for w in range(workers)]
            for process in processes:
                process.start()
            web_cpu = server.cpu() if server is not None and name == "iti65" else 0.0
            barrier.wait()
            server_cpu, start = base.server_cpu_seconds(facts["postmaster"]), time.perf_counter()
            for _ in processes:
                _seconds, cpu, got = results.get()
                totals[name]["cpu"] += cpu
                for code, n in got.items():
                    statuses[code] = statuses.get(code, 0) + n
            totals[name]["seconds"] += time.perf_counter() - start
            _add_server_cpu(totals[name], server if name == "iti65" else None, web_cpu, facts, server_cpu)
            for process in processes:
                process.join()
                if process.exitcode != 0:
                    raise SystemExit(f"a {name} worker failed (exit {process.exitcode})")
    if server is not None:
        server.stop()
    out["ways"], out["statuses"], out["facts"] = totals, statuses, facts
    out["web"] = "in-process" if server is None else "gunicorn"

    base.step("checking what ITI-65 stored")
    sample = list(Document.objects.filter(person__in=persons).select_related("person").order_by("?")[:20])
    good = 0
    for document in sample:
        response = web.get(f"/fhir/Binary/{document.uuid}", headers={**headers, "Accept": "*/*"}, secure=True)
        w = persons.index(document.person)
        index = int(document.unique_id.rsplit(".", 1)[1]) - 1
        good += response.status_code == 200 and b"".join(response.streaming_content) == contents[w][index]
    n = per * workers
    out["checks"] = {
        "HTTP 200 answers": (statuses.get(200, 0), n),
        "ITI-65 documents": (Document.objects.filter(person__in=persons).count(), n),
        "ITI-65 blobs": (Blob.objects.filter(person__in=persons).count(), n),
        "submission sets": (SubmissionSet.objects.filter(person__in=persons).count(), n),
        "document.add events": (AccessEvent.objects.filter(person__in=persons, action="document.add").count(), n),
        "raw documents": (Document.objects.filter(person__in=raw_persons).count(), n),
        "sample read back through ITI-68": (good, len(sample)),
        "event chains verify": (all(verify_chain(p) for p in persons), True),
    }
    return out


def run_xdm(args, tmp: Path) -> dict:
    from django.core.management import call_command

    from carnet.identity.enums import SpaceStatus
    from carnet.identity.models import Person
    from carnet.record.models import Document
    from tests.interop.xdm_archives import TEST_NIR_OID, XdmDocument, write_xdm

    values = base.person_values(3)
    values["nir"] = INS
    Person.objects.filter(nir=INS).delete()  # the ITI-65 part's person: a fresh space for the import
    person = Person.objects.create(status=SpaceStatus.ACTIVE, **values)
    base.step(f"building an XDM archive of {args.xdm:,} documents (not timed)")
    documents = [XdmDocument(data, f"1.2.250.1.999.80.{i + 1}", INS, TEST_NIR_OID, type_code=(
        "96173-0", "2.16.840.1.113883.6.1", "TROD"), class_code=("52", "1.2.250.1.213.1.1.4.1", "Certificat"),
        format_code=("urn:asipSante:modelesHorsProfils:2011", "1.2.250.1.213.1.1.4.2.282", "Hors profils"),
        file_name=f"DOC{i + 1:05d}.XML") for i, data in enumerate(variants(args.xdm, "xdm"))]
    path = write_xdm(tmp / "export.zip", documents)
    out: dict = {"archive_bytes": path.stat().st_size}
    for label in ("first", "again"):
        cpu = base.cpu_seconds()
        start = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            call_command("import_dmp", str(path))
        out[label] = (time.perf_counter() - start, base.cpu_seconds() - cpu,
                      Document.objects.filter(person=person).count())
    out["checks"] = {"imported documents": (out["first"][2], args.xdm),
                     "nothing new on the second run": (out["again"][2], args.xdm)}
    return out


def file_create_cost(directory: Path, count: int = 200) -> float:
    """Median microseconds to create a file in a fresh subdirectory of `directory` (where the vault's files go), as
    `vault.write_file` creates them; not timed with the run. On a filesystem that many sessions churn, creating a
    file can cost the kernel a search for a free inode (ext4 skips recently deleted ones): this says how much."""
    probe = directory / f"create-probe-{uuid.uuid4().hex}"
    probe.mkdir()
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            fd = os.open(probe / uuid.uuid4().hex, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            times.append(time.perf_counter() - start)
            os.close(fd)
    finally:
        for child in probe.iterdir():
            child.unlink()
        probe.rmdir()
    return 1e6 * sorted(times)[len(times) // 2]


def report(ingest: dict, xdm: dict, loads) -> int:
    ways = ingest["ways"]
    n = ingest["checks"]["HTTP 200 answers"][1]
    web = ("through gunicorn over HTTP" if ingest["web"] == "gunicorn"
           else "in-process through Django's test Client (no HTTP server)")
    print(f"\nITI-65 ingest, {n:,} single-document bundles (CDA {ingest['doc_bytes']:,} bytes, JSON body "
          f"{ingest['body_bytes']:,.0f} bytes), {ingest.get('workers', 1)} worker process(es) on each side, ITI-65 "
          f"{web}")
    print("| way | seconds | documents/s | ms/document | Python CPU s | server CPU s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, label in (("raw", "raw insert + encrypted write"), ("iti65", "ITI-65 `POST /fhir/`")):
        w = ways[name]
        server = "" if w["server_cpu"] is None else f"{w['server_cpu']:.1f}"
        print(f"| {label} | {w['seconds']:.2f} | {n / w['seconds']:,.0f} | {1000 * w['seconds'] / n:.2f} | "
              f"{w['cpu']:.1f} | {server} |")
    rate = n / ways["iti65"]["seconds"]
    if "web_cpu" in ways["iti65"]:
        web_cpu = ways["iti65"]["web_cpu"]
        print(f"\nITI-65 Python CPU per document: {1000 * web_cpu / n:.2f} ms in gunicorn, "
              f"{1000 * (ways['iti65']['cpu'] - web_cpu) / n:.2f} ms in the bench's HTTP clients.")
    print(f"\nITI-65 takes {ways['iti65']['seconds'] / ways['raw']['seconds']:.1f} times as long as raw; "
          f"{rate:,.0f} documents/s against a target of {TARGET:.0f}: {'met' if rate >= TARGET else 'NOT met'}.")
    m = xdm["checks"]["imported documents"][1]
    first, again = xdm["first"], xdm["again"]
    print(f"\nXDM import (`carnet import_dmp`), {m:,} documents, archive {xdm['archive_bytes'] / 2 ** 20:.1f} MiB")
    print("| run | seconds | documents/s | Python CPU s |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| first | {first[0]:.2f} | {m / first[0]:,.0f} | {first[1]:.1f} |")
    print(f"| again (idempotent) | {again[0]:.2f} | {m / again[0]:,.0f} | {again[1]:.1f} |")
    facts = ingest["facts"]
    print(f"\nPostgreSQL {facts['version']}, shared_buffers {facts['shared_buffers']}, synchronous_commit "
          f"{facts['synchronous_commit']}; peak RSS {base.peak_rss_mib():.0f} MiB; load "
          + ", ".join(f"{label} {a:.2f}" for label, (a, _b, _c) in loads))
    print(f"Vault files under {ingest['vault_dir']} (TMPDIR): a file create took {ingest['create_us']:.0f} µs "
          "there before the run (median of 200)")
    print(f"Python {platform.python_version()}, {os.path.realpath(sys.executable)} (the web workers' too)")
    failed = [(name, got, wanted) for part in (ingest, xdm) for name, (got, wanted) in part["checks"].items()
              if got != wanted]
    print("\nChecks: " + ("all passed" if not failed else "; ".join(f"{n}: {g} (expected {w})" for n, g, w in failed)))
    if failed:
        return 1
    return 0 if rate >= TARGET else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=int, default=1_000)
    parser.add_argument("--xdm", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="100 bundles and 100 XDM documents")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the ITI-65 requests to FILE "
                        "(implies --in-process)")
    parser.add_argument("--in-process", action="store_true",
                        help="ITI-65 through Django's test Client in the bench's own process(es), not over HTTP")
    parser.add_argument("--workers", type=int, default=1,
                        help="W processes on each side, posting concurrently, one person per worker (default 1: "
                             "this process alone, one person)")
    parser.add_argument("--web-workers", type=int, default=0,
                        help="gunicorn sync workers (default: as many as --workers)")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"),
                        help="gunicorn worker class (gthread: one thread, connections kept alive)")
    args = parser.parse_args()
    if args.quick:
        args.bundles, args.xdm = 100, 100
    args.in_process = args.in_process or bool(args.profile)
    os.environ["CARNET_ACCEPT_TEST_INS"] = "1"
    loads = [("before", os.getloadavg())]
    with tempfile.TemporaryDirectory(prefix="carnet-bench-") as tmp_name:
        tmp = Path(tmp_name)
        url = base.real_settings(tmp)
        base.recreate_database(url)
        import django

        django.setup()
        base.fresh_database(url, "interop")
        create_us = file_create_cost(tmp)
        ingest = run_ingest(args) if args.workers <= 1 else run_parallel(args)
        ingest["vault_dir"], ingest["create_us"] = tmp.parent, create_us
        loads.append(("after ITI-65", os.getloadavg()))
        xdm = run_xdm(args, tmp)
        loads.append(("after XDM", os.getloadavg()))
        return report(ingest, xdm, loads)


if __name__ == "__main__":
    sys.exit(main())
