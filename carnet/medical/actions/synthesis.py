"""Publishing a PDF synthesis of chosen (otherwise private) sections into the holder's documents."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from carnet.sharing.events import authorise
from carnet.sharing.policy import Action

from ..enums import Section
from ..errors import MedicalError
from ..synthesis import build_synthesis_pdf

SYNTHESIS_TYPE = "DOCPAT08"


def publish_synthesis(actor, person, sections: list[str]):
    """File the synthesis as a document (type DOCPAT08, source holder); returns the Document."""
    authorise(actor, Action.READ_RECORD, person)
    chosen = [s for s in sections if s in Section.values]
    if not chosen or len(chosen) != len(set(sections)):
        raise MedicalError(_("Choisissez au moins une rubrique."), "sections")
    pdf = build_synthesis_pdf(person, chosen)
    from carnet.record.actions import add_document

    day = timezone.localdate()
    return add_document(actor, person, content=io.BytesIO(pdf), filename=f"synthese-profil-medical-{day}.pdf",
                        title=_("Synthèse du profil médical du %(date)s") % {"date": day.strftime("%d/%m/%Y")},
                        type_code=SYNTHESIS_TYPE, source="holder")
