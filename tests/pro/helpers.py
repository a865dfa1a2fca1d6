import html

from carnet.pro.services import remember_patient
from carnet.record import actions
from carnet.record.actions import Author
from carnet.record.enums import AuthorKind, DocumentSource
from tests.record.conftest import make_pdf, make_png


def text(response) -> str:
    return html.unescape(response.content.decode())


def found(client, person) -> str:
    """The patient as found by this session's search: the URL of their page."""
    session = client.session
    handle = remember_patient(session, person)
    session.save()
    return f"/pro/patients/{handle}/"


def add_doc(person, type_code="11488-4", *, title="Compte rendu de consultation", masked=False, author_rpps="",
            png=False):
    return actions.add_document(None, person, content=make_png() if png else make_pdf(title), title=title,
                                type_code=type_code, source=DocumentSource.PROFESSIONAL, masked=masked,
                                author=Author(AuthorKind.PROFESSIONAL, "Dr Auteur", author_rpps))
