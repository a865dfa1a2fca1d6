"""Master keys (from the environment) and the per-person data keys they wrap."""

import base64
import os
import time
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import DataKey


@lru_cache(maxsize=8)
def _parse(spec: str) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, _, encoded = item.partition(":")
        raw = base64.b64decode(encoded)
        if not key_id or len(raw) != 32:
            raise ImproperlyConfigured("CARNET_MASTER_KEYS: each entry is id:base64 of 32 bytes.")
        keys.append((key_id, raw))
    if not keys:
        raise ImproperlyConfigured("CARNET_MASTER_KEYS is empty.")
    return tuple(keys)


def master_keys() -> dict[str, bytes]:
    return dict(_parse(settings.CARNET_MASTER_KEYS))


def current_master() -> tuple[str, bytes]:
    return _parse(settings.CARNET_MASTER_KEYS)[0]


def _aad(person_uuid, key_id: str) -> bytes:
    return b"carnet-data-key\x00" + person_uuid.bytes + key_id.encode()


def wrap(person_uuid, data_key: bytes) -> tuple[str, bytes]:
    key_id, master = current_master()
    nonce = os.urandom(12)
    return key_id, nonce + AESGCM(master).encrypt(nonce, data_key, _aad(person_uuid, key_id))


def unwrap(person_uuid, key_id: str, wrapped: bytes) -> bytes:
    master = master_keys().get(key_id)
    if master is None:
        raise ImproperlyConfigured(f"Master key {key_id!r} is not configured; it is needed to read data keys.")
    wrapped = bytes(wrapped)
    return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], _aad(person_uuid, key_id))


_cache: dict[int, tuple[float, bytes]] = {}
CACHE_SECONDS = 60.0
CACHE_SIZE = 4096


def forget_data_key(person_id: int) -> None:
    """Drop a cached key (crypto-shredding calls this; other processes forget within CACHE_SECONDS)."""
    _cache.pop(person_id, None)


def data_key_for(person) -> bytes:
    """The person's data key, created on first use; unwrapped keys stay in memory for a minute, so a
    burst of writes for one person reads and unwraps the key once."""
    now = time.monotonic()
    cached = _cache.get(person.pk)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    key = _load_or_create(person)
    if len(_cache) >= CACHE_SIZE:
        _cache.clear()
    _cache[person.pk] = (now, key)
    return key


def _load_or_create(person) -> bytes:
    row = DataKey.objects.filter(person_id=person.pk).first()
    if row is None:
        key = AESGCM.generate_key(bit_length=256)
        key_id, wrapped = wrap(person.uuid, key)
        try:
            with transaction.atomic():
                DataKey.objects.create(person_id=person.pk, master_key_id=key_id, wrapped=wrapped)
            return key
        except IntegrityError:  # created concurrently: use theirs
            row = DataKey.objects.get(person_id=person.pk)
    return unwrap(person.uuid, row.master_key_id, row.wrapped)


def rotate_master_key(batch_size: int = 1000) -> int:
    """Rewrap every data key that is not under the current master key; returns how many."""
    key_id, _ = current_master()
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                DataKey.objects.select_for_update()
                .exclude(master_key_id=key_id).select_related("person")[:batch_size]
            )
            if not rows:
                return done
            for row in rows:
                plain = unwrap(row.person.uuid, row.master_key_id, row.wrapped)
                row.master_key_id, row.wrapped = wrap(row.person.uuid, plain)
                row.rewrapped_at = timezone.now()
            DataKey.objects.bulk_update(rows, ["master_key_id", "wrapped", "rewrapped_at"])
            done += len(rows)
