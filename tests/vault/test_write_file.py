"""The vault's own file write (`services.write_file`): the bytes, the mode and the naming of Django's `save()`."""

import io
import os
import stat

import pytest
from django.core.files.storage import FileSystemStorage, storages

from carnet.identity.enums import SpaceStatus
from carnet.vault import services as vault

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(tmp_path) -> FileSystemStorage:
    return FileSystemStorage(location=tmp_path, file_permissions_mode=0o600, directory_permissions_mode=0o700)


def test_first_file_makes_the_directory_and_later_ones_get_the_same_bytes_and_mode(target, tmp_path):
    old = os.umask(0o002)  # a lax umask must not loosen the file's mode
    try:
        first = vault.write_file(target, "person/a", iter([b"abc", b"def"]))
        second = vault.write_file(target, "person/b", iter([b"x" * 100_000, b"y"]))
    finally:
        os.umask(old)
    assert (first, second) == ("person/a", "person/b")
    assert (tmp_path / "person" / "a").read_bytes() == b"abcdef"
    assert (tmp_path / "person" / "b").read_bytes() == b"x" * 100_000 + b"y"
    assert stat.S_IMODE((tmp_path / "person").stat().st_mode) == 0o700
    assert {stat.S_IMODE((tmp_path / "person" / n).stat().st_mode) for n in ("a", "b")} == {0o600}


def test_a_taken_name_is_never_overwritten(target, tmp_path):
    vault.write_file(target, "person/a", iter([b"first"]))
    again = vault.write_file(target, "person/a", iter([b"second"]))
    assert again != "person/a"
    assert (tmp_path / "person" / "a").read_bytes() == b"first"
    assert (tmp_path / again).read_bytes() == b"second"


def test_a_name_outside_the_storage_is_refused(target):
    with pytest.raises(Exception, match="outside"):
        vault.write_file(target, "../escape", iter([b"x"]))


def test_store_writes_through_it_and_reads_back(family):
    person = family.person(status=SpaceStatus.ACTIVE)
    with vault.atomic():
        blobs = [vault.store(person, io.BytesIO(f"document {i}".encode())) for i in range(3)]
    assert [vault.read_bytes(b) for b in blobs] == [f"document {i}".encode() for i in range(3)]
    root = storages["vault"].location
    modes = {stat.S_IMODE(os.stat(os.path.join(root, b.storage_name)).st_mode) for b in blobs}
    assert modes == {storages["vault"].file_permissions_mode or 0o644}
