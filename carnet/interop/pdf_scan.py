"""Byte-level helpers for the PDF check in ``formats``: find denied names and stream keywords in one regex pass.

Why a module of its own: the first version tokenised every name of the file in Python (a 100 kB page with an
image holds about 400 "names", most of them in compressed bytes) and found ``stream`` keywords with a look-behind
pattern that the regex engine cannot search for quickly; together 4 ms of a 100 kB upload. Here each search is one
compiled pattern that starts with a literal, so the regex engine skips ahead in C.

A denied name is matched whatever its ``#xx`` escapes (``/J#61vaScript``, ``/#4A#53``, any case of hex digit), and
it ends at a PDF delimiter or white space, vertical tab included (pypdf ends a name there too). This finds every
denied name that the old per-name tokeniser found, and a few more (a name followed by a vertical tab).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Bytes that end a PDF name: white space (NUL, HT, LF, VT, FF, CR, space) and the delimiters.
NAME_END = rb"\x00\t\n\x0b\x0c\r ()<>\[\]{}/%"


def _spelling(char: str) -> bytes:
    """The regex for one character of a name: itself or its ``#xx`` escape, hex digits in either case."""
    code = f"{ord(char):02x}"
    escape = b"#" + b"".join(b"[%s%s]" % (d.encode(), d.upper().encode()) if d.isalpha() else d.encode()
                             for d in code)
    return b"(?:" + re.escape(char.encode()) + b"|" + escape + b")"


def names_pattern(names: Iterable[str]) -> re.Pattern[bytes]:
    """One pattern that finds any of ``names`` written as a PDF name, escaped or not; group 1 is the raw name."""
    spelled = [b"".join(_spelling(c) for c in name) for name in sorted(names, key=len, reverse=True)]
    return re.compile(b"/(" + b"|".join(spelled) + b")(?![^" + NAME_END + b"])")


HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def decode_name(raw: bytes) -> str:
    """The name as a reader sees it: ``#xx`` escapes decoded."""
    if b"#" in raw:
        raw = HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return raw.decode("latin-1")


def find_names(pattern: re.Pattern[bytes], buffer: bytes) -> Iterator[tuple[int, str]]:
    """(offset of the ``/``, decoded name) of every match of ``pattern`` in ``buffer``."""
    for match in pattern.finditer(buffer):
        yield match.start(), decode_name(match.group(1))


STREAM_KEYWORD = re.compile(rb"stream\r?\n")


def stream_starts(buffer: bytes) -> Iterator[tuple[int, int]]:
    """(offset of the keyword, offset of the payload) of every ``stream`` keyword that is not ``endstream``.

    The obvious pattern, a look-behind ``(?<!end)stream``, makes the regex engine try every byte of the buffer
    (2 ms per 100 kB); a literal first byte lets it jump, and the ``end`` test is done on the few hits."""
    for match in STREAM_KEYWORD.finditer(buffer):
        at = match.start()
        if at >= 3 and buffer[at - 3:at] == b"end":
            continue
        yield at, match.end()


def last_stream_start(buffer: bytes) -> int:
    """Offset of the last ``stream`` keyword (not ``endstream``) in ``buffer`` followed by an end of line, or -1."""
    end = len(buffer)
    while True:
        at = buffer.rfind(b"stream", 0, end)
        if at < 0:
            return -1
        following = buffer[at + 6:at + 8]
        if (following[:1] == b"\n" or following == b"\r\n") and not (at >= 3 and buffer[at - 3:at] == b"end"):
            return at
        end = at
