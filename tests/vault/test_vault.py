"""The vault: per-person keys, authenticated chunked encryption, atomic writes, key rotation."""

import base64
import io
import os
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.db import connection

from carnet.identity.enums import SpaceStatus
from carnet.vault import crypto
from carnet.vault import services as vault
from carnet.vault.keys import rotate_master_key
from carnet.vault.models import Blob, DataKey

pytestmark = pytest.mark.django_db


def _store(person, content):
    with vault.atomic():
        return vault.store(person, content)


def _stored_files() -> list[Path]:
    root = Path(storages["vault"].location)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def person(family):
    return family.person(status=SpaceStatus.ACTIVE)


def test_round_trip_across_chunks_and_content_is_encrypted(person):
    content = os.urandom(crypto.CHUNK_SIZE * 2 + 12345)
    blob = _store(person, io.BytesIO(content))
    assert vault.read_bytes(blob) == content
    raw = storages["vault"].open(blob.storage_name).read()
    assert content[:64] not in raw and len(raw) > len(content)
    assert blob.size == len(content)


def test_exact_chunk_multiple_round_trips(person):
    content = b"a" * (crypto.CHUNK_SIZE * 2)
    assert vault.read_bytes(_store(person, content)) == content


def test_same_content_is_stored_once_per_person(person, family):
    other = family.person(status=SpaceStatus.ACTIVE)
    first = _store(person, b"same bytes")
    again = _store(person, b"same bytes")
    theirs = _store(other, b"same bytes")
    assert first.pk == again.pk and theirs.pk != first.pk
    assert len(_stored_files()) == 2


def test_flipped_byte_is_detected(person):
    blob = _store(person, os.urandom(5000))
    path = Path(storages["vault"].path(blob.storage_name))
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(vault.TamperedBlob):
        vault.read_bytes(blob)


def test_truncation_at_a_chunk_boundary_is_detected(person):
    blob = _store(person, os.urandom(crypto.CHUNK_SIZE * 2 + 10))
    path = Path(storages["vault"].path(blob.storage_name))
    data = path.read_bytes()
    path.write_bytes(data[: crypto.HEADER_SIZE + 2 * (crypto.CHUNK_SIZE + crypto.TAG_SIZE)])
    with pytest.raises(vault.TamperedBlob):
        vault.read_bytes(blob)


def test_a_blob_swapped_for_another_of_the_same_person_is_detected(person):
    one, two = _store(person, b"first document"), _store(person, b"second document")
    storage = storages["vault"]
    Path(storage.path(one.storage_name)).write_bytes(Path(storage.path(two.storage_name)).read_bytes())
    with pytest.raises(vault.TamperedBlob):
        vault.read_bytes(one)


def test_a_row_pointing_at_other_content_is_detected(person):
    blob = _store(person, b"the real content")
    Blob.objects.filter(pk=blob.pk).update(sha256="0" * 64)
    blob.refresh_from_db()
    with pytest.raises(vault.TamperedBlob):
        vault.read_bytes(blob)
    with pytest.raises(vault.TamperedBlob):
        vault.verified_copy(blob)


def test_an_interrupted_upload_leaves_nothing(person):
    def upload():
        yield b"x" * crypto.CHUNK_SIZE
        yield b"y" * crypto.CHUNK_SIZE
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError), vault.atomic():
        vault.store(person, upload())
    assert not Blob.objects.exists()
    assert _stored_files() == []


def test_a_failure_after_the_write_removes_the_file(person):
    with pytest.raises(RuntimeError), vault.atomic():
        vault.store(person, b"metadata will fail")
        raise RuntimeError("row insert failed")
    assert not Blob.objects.exists() and _stored_files() == []


def test_store_outside_atomic_is_refused(person):
    with pytest.raises(RuntimeError):
        vault.store(person, b"x")


def test_empty_content_is_refused_and_leaves_nothing(person):
    with pytest.raises(ValueError), vault.atomic():
        vault.store(person, b"")
    assert _stored_files() == []


def test_streaming_a_large_file_needs_little_memory(person, tmp_path):
    source = tmp_path / "study.bin"
    with source.open("wb") as handle:
        for _ in range(40):
            handle.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    with source.open("rb") as stream:
        blob = _store(person, stream)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert blob.size == 40 * 1024 * 1024
    assert peak < 12 * 1024 * 1024, peak


def test_rotation_rewraps_keys_without_rewriting_blobs(person, settings):
    blob = _store(person, b"kept for life")
    path = Path(storages["vault"].path(blob.storage_name))
    before = path.read_bytes()
    old = settings.CARNET_MASTER_KEYS
    settings.CARNET_MASTER_KEYS = "k2026:" + base64.b64encode(os.urandom(32)).decode() + "," + old
    assert rotate_master_key() == 1
    assert DataKey.objects.get(person=person).master_key_id == "k2026"
    settings.CARNET_MASTER_KEYS = settings.CARNET_MASTER_KEYS.split(",")[0]  # the old key is gone
    assert vault.read_bytes(blob) == b"kept for life"
    assert path.read_bytes() == before
    assert rotate_master_key() == 0


def test_sealed_values_are_bound_to_person_and_purpose(person, family):
    token = vault.seal(person, b'{"resourceType": "AllergyIntolerance"}', purpose="medical")
    assert b"AllergyIntolerance" not in token
    assert vault.unseal(person, token, purpose="medical").startswith(b'{"resourceType"')
    with pytest.raises(vault.TamperedBlob):
        vault.unseal(person, token, purpose="other")
    with pytest.raises(vault.TamperedBlob):
        vault.unseal(family.person(status=SpaceStatus.ACTIVE), token, purpose="medical")


def test_data_key_is_wrapped_not_stored_in_clear(person):
    _store(person, b"x")
    with connection.cursor() as cursor:
        cursor.execute("select wrapped from vault_datakey where person_id = %s", [person.pk])
        wrapped = bytes(cursor.fetchone()[0])
    assert len(wrapped) == 12 + 32 + 16


def test_sweep_removes_only_old_unreferenced_files(person):
    import datetime as dt

    blob = _store(person, b"kept")
    storage = storages["vault"]
    orphan = storage.save(f"{person.uuid}/orphan", io.BytesIO(b"left by a crash"))
    assert vault.sweep_orphans(dt.timedelta(days=1)) == 0  # too recent: an upload may be committing
    old = Path(storage.path(orphan))
    os.utime(old, (old.stat().st_atime - 3 * 86400, old.stat().st_mtime - 3 * 86400))
    assert vault.sweep_orphans(dt.timedelta(days=1)) == 1
    assert not storage.exists(orphan) and storage.exists(blob.storage_name)


def test_rotate_master_key_command(person, settings):
    from django.core.management import call_command

    _store(person, b"x")
    settings.CARNET_MASTER_KEYS = "new:" + base64.b64encode(os.urandom(32)).decode() + "," + settings.CARNET_MASTER_KEYS
    out = io.StringIO()
    call_command("rotate_master_key", stdout=out)
    assert out.getvalue().startswith("1 clé(s)") and "new" in out.getvalue()
