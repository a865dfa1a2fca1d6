"""UUIDs and keyed hashes drawn for a whole chunk at once (codes: carnet.common.secrets.new_codes).

A chunk needs thousands of each, and one call to the system's CSPRNG (or one HMAC keyed once) per
chunk costs far less than one per row. Each gives what its one-at-a-time counterpart would
(carnet.common.secrets, uuid.uuid4).
"""

import functools
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable

from django.conf import settings

from carnet.common.secrets import keyed_hash


def new_uuids(count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs, as uuid.uuid4() makes them, from one call to the system's CSPRNG."""
    data = secrets.token_bytes(16 * count)
    return [uuid.UUID(bytes=data[i:i + 16], version=4) for i in range(0, 16 * count, 16)]


def keyed_hasher(purpose: str) -> Callable[[str], str]:
    """keyed_hash(value, purpose) for a million values: the key and the purpose are taken into the HMAC
    once, and each value continues a copy of it. Checked against keyed_hash itself, which it falls back
    to should the two ever differ."""
    keyed = hmac.new(settings.CARNET_HMAC_KEY.encode(), f"{purpose}\x00".encode(), hashlib.sha256)

    def fast(value: str) -> str:
        mac = keyed.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    probe = "registry import self-check"
    return fast if fast(probe) == keyed_hash(probe, purpose) else functools.partial(keyed_hash, purpose=purpose)
