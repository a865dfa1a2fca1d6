"""Test settings: the real settings with CARNET_TESTING=1 (fast hashes, immediate tasks)."""

import os
import tempfile

os.environ.setdefault("CARNET_TESTING", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carnet")
# The vault's files, like the database, are per test process.
os.environ.setdefault("CARNET_VAULT_DIR", os.path.join(tempfile.gettempdir(), f"carnet-test-vault-{os.getpid()}"))

from carnet.settings import *  # noqa: E402, F403

# One test database per test process, so parallel runs (developers, helpers) never collide.
DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_carnet_{os.getpid()}"  # noqa: F405
