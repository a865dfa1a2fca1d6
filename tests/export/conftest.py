"""A holder whose space has real documents: CI-SIS 2.41 examples from ../shared/samples (VAC-NOTE_2021.01.xml,
CR-BIO_2021.01_Electrophorese.xml; their INS is the holder's NIR, as identity vigilance wants), a PDF made with
reportlab and a second version of it, and a medical profile (an allergy, a vaccination)."""

import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone

from carnet.export import actions as export_actions
from carnet.export.models import Export
from carnet.medical.actions import entries
from carnet.medical.enums import Section
from carnet.record import actions as record_actions
from tests.conftest import PASSWORD
from tests.interop.builders import CDA_241, reportlab_pdf
from tests.interop.xdm_archives import INS_241

VAC, BIO = "VAC-NOTE_2021.01.xml", "CR-BIO_2021.01_Electrophorese.xml"


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@pytest.fixture
def space(family):
    """(account, person, documents) of a holder with the INS of the ci-sis-2.41 examples."""
    account = family.holder(nir=INS_241)
    person = account.person
    with open(CDA_241 / VAC, "rb") as fh:
        vac = record_actions.add_document(person, person, content=fh, filename=VAC,
                                          act_date=at(2021, 4, 9, 14, 35))
    with open(CDA_241 / BIO, "rb") as fh:
        bio = record_actions.add_document(person, person, content=fh, filename=BIO, unique_id="1.2.250.1.999.20.2",
                                          masked=True, act_date=at(2021, 1, 4, 15, 5, 27))
    first = record_actions.add_document(person, person, content=reportlab_pdf("Ordonnance"), filename="o.pdf",
                                        title="Ordonnance du Dr Martin", type_code="57833-6",
                                        act_date=at(2024, 3, 2, 9, 30), hidden_from_representatives=True)
    second = record_actions.add_document(person, person, content=reportlab_pdf("Ordonnance v2"), filename="o2.pdf",
                                         title="Ordonnance du Dr Martin (corrigée)", type_code="57833-6",
                                         act_date=at(2024, 3, 3, 10, 0), replaces=first)
    entries.add_entry(person, person, Section.ALLERGIES, {"label": "Arachide"})
    entries.add_entry(person, person, Section.VACCINATIONS, {"vaccine": "mmr", "date": "2020", "dose": 1,
                                                            "lot": "AB12", "vaccinator": "Dr Martin"})
    return account, person, [vac, bio, first, second]


def ready_export(account, django_capture_on_commit_callbacks, **options) -> Export:
    """Request an export and let the task run (immediate backend, after commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        export = export_actions.request_export(account, password=PASSWORD, **options)
    export.refresh_from_db()
    return export


def download(person, export) -> zipfile.ZipFile:
    _found, handle = export_actions.open_download(person, export.uuid)
    with handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def now() -> dt.datetime:
    return timezone.now()
