"""The pro portal's rules that are not the sharing policy's: who is signed in as a professional (a session of
its own kind, separate from a holder's login), which patients this session found, and finding a patient by INS
with the identity-traits check (identitovigilance).

Access to a patient's space is never decided here: views ask `carnet.sharing.policy.decide` /
`carnet.sharing.events.authorise`.
"""

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import logout
from django.utils import timezone

from carnet.identity import throttle
from carnet.identity.enums import SpaceStatus
from carnet.identity.models import Person
from carnet.interop import ins as ins_codes
from carnet.sharing.models import Professional

PROFESSIONAL_KEY = "pro:professional"  # the professional's uuid
METHOD_KEY = "pro:method"  # "oidc" or "demo"
SIGNED_IN_AT_KEY = "pro:signed_in_at"
PATIENTS_KEY = "pro:patients"  # {opaque handle: person uuid}, this session's found patients
MAX_PATIENTS = 20
SEARCH_SCOPE = "pro_ins_search"  # attempt limits per professional (carnet/identity/throttle.py)
SEARCH_ATTEMPTS = 10


class SignInRefused(Exception):
    """The identified professional may not sign in: `code` is "unknown" or "inactive"."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


class SearchLocked(Exception):
    """Too many unmatched searches by this professional: wait before trying again."""


# --- the professional's session ---------------------------------------------------------------------------------


def professional_for_national_id(national_id: str) -> Professional:
    """The directory's professional for a national identifier "8" + RPPS (11 digits); SignInRefused otherwise.
    Other identifiers (ADELI-based "0…", test ids) are not in Carnet's directory: refused as unknown."""
    value = (national_id or "").strip()
    if not re.fullmatch(r"8\d{11}", value):
        raise SignInRefused("unknown")
    professional = Professional.objects.filter(rpps=value[1:]).first()
    if professional is None:
        raise SignInRefused("unknown")
    if not professional.active:
        raise SignInRefused("inactive")
    return professional


def sign_in(request, professional: Professional, *, method: str) -> None:
    """Open a professional's session: whatever the browser held before (a holder's login included) ends, and the
    session key changes (no fixation)."""
    if not professional.active:
        raise SignInRefused("inactive")
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        logout(request)  # a holder's login is not a professional's: one or the other
    else:
        request.session.flush()
    request.session[PROFESSIONAL_KEY] = str(professional.uuid)
    request.session[METHOD_KEY] = method
    request.session[SIGNED_IN_AT_KEY] = timezone.now().isoformat()


def sign_out(request) -> None:
    request.session.flush()


def current_professional(request) -> Professional | None:
    """The professional signed in on this session, or None. A session where a holder signed in since is not a
    professional's any more (the holder's login keeps the session's data: drop the professional's)."""
    value = request.session.get(PROFESSIONAL_KEY)
    if not value:
        return None
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        for key in (PROFESSIONAL_KEY, METHOD_KEY, SIGNED_IN_AT_KEY, PATIENTS_KEY):
            request.session.pop(key, None)
        return None
    return Professional.objects.filter(uuid=value).first()


# --- patients found in this session -----------------------------------------------------------------------------


def remember_patient(session, person: Person) -> str:
    """An opaque handle for `person`, valid in this session only: the patient's pages are addressed by it, so
    neither the INS nor any lasting identifier of the person appears in a URL."""
    patients = dict(session.get(PATIENTS_KEY, {}))
    for handle, value in patients.items():
        if value == str(person.uuid):
            return handle
    handle = secrets.token_urlsafe(16)
    patients[handle] = str(person.uuid)
    while len(patients) > MAX_PATIENTS:
        patients.pop(next(iter(patients)))
    session[PATIENTS_KEY] = patients
    return handle


def patient_for(session, handle: str) -> Person | None:
    value = session.get(PATIENTS_KEY, {}).get(handle)
    return Person.objects.filter(uuid=value).first() if value else None


# --- finding a patient by INS and identity traits ---------------------------------------------------------------


def fold(value: str) -> str:
    """Names compared as identity vigilance reads them: without accents, case, or the difference between a
    hyphen, an apostrophe and a space."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[\s\-'’‐]+", " ", plain)
    return plain.strip().upper()


def first_given_name(given_names: str) -> str:
    """The registry's first given name: given names are separated by spaces; a compound one keeps its hyphen."""
    return (given_names or "").strip().split(" ")[0]


@dataclass(frozen=True)
class Traits:
    """Identity traits as identity vigilance compares them: birth name, first given name, birth date, and sex
    when the caller gives it (Sex code, "M" or "F")."""

    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str | None = None

    def match(self, person: Person) -> bool:
        """Exact match once names are folded (accents, case, hyphens): never a prefix or a sound-alike."""
        return (fold(person.family_name) == fold(self.family_name)
                and fold(first_given_name(person.given_names)) == fold(self.given_name)
                and person.birth_date == self.birth_date
                and (self.sex is None or person.sex == self.sex))


class BadIdentifier(ValueError):
    """An identifier that is not an INS at all (`system`), or a malformed one (`malformed`, `bad_key`)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def nir_for_ins(system: str, value: str) -> str | None:
    """The NIR an INS (`urn:oid:<INS OID>` or the bare OID, and the number) names, or None when it may match no
    one here (an NIA, which no space is opened under; a test INS where they are refused). BadIdentifier when the
    system is not an INS OID or the number fails its checks."""
    oid = (system or "").strip().removeprefix("urn:oid:")
    if oid not in ins_codes.INS_OIDS:
        raise BadIdentifier("system")
    checked = ins_codes.check_ins(oid, value)
    if not checked.valid:
        raise BadIdentifier(checked.problem or "malformed")
    if checked.nia or (checked.test and not ins_codes.accepts_test_ins()):
        return None
    return checked.nir


def match_identity(professional: Professional, *, nir: str | None = None, traits: Traits | None = None,
                   accept=None) -> list[Person]:
    """The persons an identity search names, for the pro portal and the FHIR face (PDQm) alike: by INS (one
    person at most) with the traits checked when given, or by traits alone (all four compared exactly, at the
    birth date's index); `accept` drops those the caller may not reveal. An empty answer counts as a failed
    attempt against the professional's limit (raises throttle.Locked when reached)."""
    if nir is None and traits is None:
        raise ValueError("an INS or traits")
    key = professional.rpps
    throttle.check(SEARCH_SCOPE, key)  # raises throttle.Locked
    if nir is not None:
        candidates = list(Person.objects.filter(nir=nir)[:1])
    else:
        candidates = list(Person.objects.filter(birth_date=traits.birth_date))  # type: ignore[union-attr]
    found = [p for p in candidates if (traits is None or traits.match(p)) and (accept is None or accept(p))]
    if not found:
        throttle.fail(SEARCH_SCOPE, key, limit=SEARCH_ATTEMPTS)
    else:
        throttle.succeed(SEARCH_SCOPE, key)
    return found


def find_patient(professional: Professional, *, ins: str, family_name: str, given_name: str,
                 birth_date: dt.date) -> Person | None:
    """The person whose INS and traits (birth name, first given name, birth date) all match the registry, and
    whose space is active; None otherwise — unknown, a mismatch, not active and opposed are one answer, so a
    search never tells whether an INS exists. Unmatched searches are limited per professional."""
    found = match_identity(professional, nir=ins, traits=Traits(family_name, given_name, birth_date),
                           accept=lambda person: person.status == SpaceStatus.ACTIVE)
    return found[0] if found else None


# --- documents ----------------------------------------------------------------------------------------------------


def held_from_holder(document) -> bool:
    """Still held from the holder for an announcement consultation (INVISIBLE_PATIENT, until its author releases it
    or the legal delay ends): the rule of `carnet.record.visibility.visible_documents`, for one document."""
    return bool(document.invisible_to_holder) and (
        document.invisible_to_holder_until is None or document.invisible_to_holder_until > timezone.localdate())
