"""Identity vigilance for a CDA filed through a portal (the patient's or the professionals'): the INS in the
document's own header must be the person's, as the FHIR face checks it for an ITI-65 bundle
(`carnet.fhir.publish`, with this module's rule), so a document sent by itself is refused the same way."""

from carnet.interop.ins import check_ins
from carnet.vault import services as vault

from . import actions
from .errors import RecordError
from .models import Document


def names_another_patient(document: Document, person) -> bool:
    """Whether a CDA's header carries a valid INS and none of them is `person`'s. A CDA without a usable INS
    (missing, malformed, bad key) names nobody: its header says so (`details["cda"]["patient_ids"]`)."""
    ids = ((document.details or {}).get("cda") or {}).get("patient_ids") or []
    checks = [check_ins(i.get("root"), i.get("extension")) for i in ids if isinstance(i, dict)]
    valid = [c for c in checks if c.valid]
    return bool(valid) and not any(c.nir == person.nir for c in valid)


def check_cda_patient(document: Document, person) -> None:
    """Refuse a CDA that names another patient (`names_another_patient`)."""
    from django.utils.translation import gettext as _

    if names_another_patient(document, person):
        raise RecordError(_("Ce document CDA concerne un autre patient : l'INS de son en-tête n'est pas celui de ce "
                            "dossier. Il n'a pas été déposé."), field="file", code="patient_mismatch")


def add_checked_document(actor, person, **kwargs) -> Document:
    """`actions.add_document`, then the CDA identity check, in one transaction: a refused CDA leaves nothing
    (no row, no blob, no event, no notice)."""
    with vault.atomic():
        document = actions.add_document(actor, person, **kwargs)
        check_cda_patient(document, person)
    return document
