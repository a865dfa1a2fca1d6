"""AES-256-GCM in authenticated chunks, so a blob of any size streams in constant memory.

Layout: header = MAGIC + blob uuid (16 bytes) + random nonce prefix (8 bytes), then chunks of at
most CHUNK_SIZE plaintext bytes, each sealed with nonce = prefix + chunk index and additional data
= header + index + final flag. Reordered, dropped, truncated or swapped chunks (or a whole blob
swapped for another) fail authentication; nothing is returned from a chunk before its tag checks.
"""

import os
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CNV1"
HEADER_SIZE = len(MAGIC) + 16 + 8
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16


class TamperedBlob(Exception):
    """The stored bytes are not what was written: corrupted, truncated, swapped or forged."""


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">I?", index, final)


def encrypt_chunks(key: bytes, blob_id: bytes, plaintext_chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the header then each sealed chunk; the input may be any iterable of byte strings."""
    aead = AESGCM(key)
    header = MAGIC + blob_id + os.urandom(8)
    yield header
    prefix = header[-8:]
    index = 0
    pending = b""
    buffer = bytearray()
    for piece in plaintext_chunks:
        buffer += piece
        while len(buffer) > CHUNK_SIZE:  # keep at least one byte back: the final chunk is never empty
            if pending:
                yield aead.encrypt(prefix + struct.pack(">I", index), pending, _aad(header, index, False))
                index += 1
            pending = bytes(buffer[:CHUNK_SIZE])
            del buffer[:CHUNK_SIZE]
    if pending and buffer:
        yield aead.encrypt(prefix + struct.pack(">I", index), pending, _aad(header, index, False))
        index += 1
        pending = b""
    last = pending or bytes(buffer)
    yield aead.encrypt(prefix + struct.pack(">I", index), last, _aad(header, index, True))


def decrypt_stream(key: bytes, blob_id: bytes, source: BinaryIO) -> Iterator[bytes]:
    """Yield verified plaintext chunks; raise TamperedBlob at the first inconsistency."""
    aead = AESGCM(key)
    header = source.read(HEADER_SIZE)
    if len(header) != HEADER_SIZE or not header.startswith(MAGIC) or header[4:20] != blob_id:
        raise TamperedBlob("bad header")
    prefix = header[-8:]
    sealed_size = CHUNK_SIZE + TAG_SIZE
    current = source.read(sealed_size)
    index = 0
    while True:
        if len(current) < TAG_SIZE:
            raise TamperedBlob("truncated")
        following = source.read(sealed_size) if len(current) == sealed_size else b""
        final = not following
        try:
            yield aead.decrypt(prefix + struct.pack(">I", index), current, _aad(header, index, final))
        except InvalidTag as exc:
            raise TamperedBlob(f"chunk {index} failed authentication") from exc
        if final:
            return
        current, index = following, index + 1
