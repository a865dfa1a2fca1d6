"""The INS (identité nationale de santé) as documents carry it: an OID naming the kind of number, and the number.

Matricule INS OIDs: ``1.2.250.1.213.1.4.8`` NIR and ``.9`` NIA in production; ``.10`` NIR and ``.11`` NIA for test
identities (the CI-SIS 3.0 examples, test cards); ``.12``/``.13`` are the demonstration ranges. The number is the
15-character NIR (13 + control key; Corsica's 2A/2B allowed).

An INS is never "corrected": a value that fails the control key (some published examples do) is reported as
``bad_key`` and matches nobody, because a qualified identity cannot carry a broken key and guessing whom it meant
would file health data in the wrong space. Whether a test OID may match a person is the caller's decision
(``CARNET_ACCEPT_TEST_INS``, see ``accepts_test_ins``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import nir as stdnum_nir

NIR_OID = "1.2.250.1.213.1.4.8"
NIA_OID = "1.2.250.1.213.1.4.9"
TEST_NIR_OID = "1.2.250.1.213.1.4.10"
TEST_NIA_OID = "1.2.250.1.213.1.4.11"
DEMO_NIR_OID = "1.2.250.1.213.1.4.12"
DEMO_NIA_OID = "1.2.250.1.213.1.4.13"
PRODUCTION_OIDS = (NIR_OID, NIA_OID)
TEST_OIDS = (TEST_NIR_OID, TEST_NIA_OID, DEMO_NIR_OID, DEMO_NIA_OID)
INS_OIDS = PRODUCTION_OIDS + TEST_OIDS
NIR_OIDS = (NIR_OID, TEST_NIR_OID, DEMO_NIR_OID)

# Problems, as short codes (the report and the tests use them; people get a sentence from the caller).
MISSING = "missing"  # no identifier under an INS OID
MALFORMED = "malformed"  # not 13 characters + 2-digit key
BAD_KEY = "bad_key"  # the control key does not match


@dataclass(frozen=True)
class InsCheck:
    """One INS read from a document: its OID, the number as written, and what is wrong with it (None: valid).

    ``test`` says the OID is a test or demonstration one; ``nir`` is the compacted number when it is valid."""

    oid: str | None
    value: str | None
    problem: str | None
    test: bool = False
    nia: bool = False

    @property
    def valid(self) -> bool:
        return self.problem is None

    @functools.cached_property  # asked several times per ITI-65 bundle; compacting is not free
    def nir(self) -> str | None:
        return stdnum_nir.compact(self.value) if self.valid and self.value else None


def check_ins(oid: str | None, value: str | None) -> InsCheck:
    """Check one (OID, number) pair; an OID outside the INS ones is ``missing`` (it is some other identifier)."""
    oid = (oid or "").strip()
    value = (value or "").strip() or None
    if oid not in INS_OIDS or value is None:
        return InsCheck(oid or None, value, MISSING)
    test, nia = oid in TEST_OIDS, oid in (NIA_OID, TEST_NIA_OID, DEMO_NIA_OID)
    try:
        stdnum_nir.validate(value)
    except InvalidChecksum:
        return InsCheck(oid, value, BAD_KEY, test, nia)
    except ValidationError:
        return InsCheck(oid, value, MALFORMED, test, nia)
    return InsCheck(oid, value, None, test, nia)


def accepts_test_ins() -> bool:
    """May a test/demo INS match a person here? Only where ``CARNET_ACCEPT_TEST_INS`` says so (on in demo and
    tests by default, off in production)."""
    from django.conf import settings

    return bool(getattr(settings, "CARNET_ACCEPT_TEST_INS", False))
