"""Sealing and unsealing the JSON of entries with the person's key (carnet.vault)."""

import json
from typing import Any

PURPOSE = "medical"


def seal_json(person, data: Any) -> bytes:
    from carnet.vault.services import seal

    token = seal(person, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), purpose=PURPOSE)
    return token if isinstance(token, bytes) else str(token).encode()


def unseal_json(person, token) -> Any:
    from carnet.vault.services import unseal

    raw = unseal(person, bytes(token), purpose=PURPOSE)
    return json.loads(raw)
