"""Service-generated secrets: random, stored as a keyed hash, compared in constant time.

Provisional codes, one-time codes, links and API tokens are high-entropy and short-lived, so an
HMAC with a server-side key is the right store (fast enough to issue a million codes, useless to
whoever steals the table without the key); slow password hashes are for passwords people choose.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

# No 0/O, 1/I/L: a code read off a paper letter must not be ambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of a secret, domain-separated by purpose (a code never matches a token)."""
    key = settings.CARNET_HMAC_KEY.encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def matches(value: str, purpose: str, digest: str) -> bool:
    return hmac.compare_digest(keyed_hash(value, purpose), digest)


CODE_LENGTH = 12
# Random bytes map onto the alphabet through a table; bytes past the last whole multiple of the
# alphabet's length are dropped rather than folded, so every character stays equally likely.
_WHOLE = len(CODE_ALPHABET) * (256 // len(CODE_ALPHABET))
_CODE_TABLE = bytes.maketrans(bytes(range(_WHOLE)), (CODE_ALPHABET * (256 // len(CODE_ALPHABET))).encode())
_CODE_DROPPED = bytes(range(_WHOLE, 256))


def new_codes(count: int) -> list[str]:
    """`count` provisional codes as typed once normalised: 12 characters from a 31-letter alphabet
    (~59 bits each), from one call to the system's CSPRNG (a registry import needs thousands at once)."""
    need = CODE_LENGTH * count
    text = ""
    while len(text) < need:
        text += secrets.token_bytes(need - len(text) + 64).translate(_CODE_TABLE, _CODE_DROPPED).decode("ascii")
    return [text[start:start + CODE_LENGTH] for start in range(0, need, CODE_LENGTH)]


def shown_code(code: str) -> str:
    """A normalised code as printed and mailed: XXXX-XXXX-XXXX."""
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}"


def new_provisional_code() -> str:
    return shown_code(new_codes(1)[0])


def normalise_code(code: str) -> str:
    """What the person typed, without spaces/dashes and in capitals, as it was hashed."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_otp() -> str:
    """A 6-digit one-time code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_token() -> str:
    """A URL-safe token for one-time links and API bearer tokens (256 bits)."""
    return secrets.token_urlsafe(32)
