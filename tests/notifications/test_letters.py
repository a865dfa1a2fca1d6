"""The hand-written PDF writer must produce a file a real PDF reader opens, one page per letter,
with the text a postman and a person need (read back with pypdf, an independent parser)."""

import pytest
from pypdf import PdfReader

from carnet.notifications.actions import queue_letter
from carnet.notifications.letters import render_batch
from carnet.notifications.models import OutboundMessage

pytestmark = pytest.mark.django_db


def test_a_batch_is_a_valid_pdf_with_one_page_per_letter_and_readable_text(tmp_path, settings):
    settings.CARNET_DEMO = False
    for index, name in enumerate(["Élodie Lefèvre", "Zoé N'Diaye (tutelle)", "Łukasz Wąs"]):
        queue_letter(f"{name}\n{index} rue de la Paix\n75002 Paris", "Carnet : votre espace santé personnel est prêt",
                     "Bonjour,\n\nVotre code provisoire : ABCD-EFGH-JK2M\n" + "texte long " * 40, batch="lot-test")

    path = render_batch("lot-test", tmp_path)

    reader = PdfReader(path)
    assert len(reader.pages) == 3
    first = reader.pages[0].extract_text()
    assert "Élodie Lefèvre" in first and "75002 Paris" in first and "ABCD-EFGH-JK2M" in first
    assert "N'Diaye (tutelle)" in reader.pages[1].extract_text()  # parentheses escaped correctly
    assert "ukasz" in reader.pages[2].extract_text()  # outside WinAnsi: degraded, never a crash
    assert reader.metadata.title.startswith("Carnet")
    letters = OutboundMessage.objects.filter(batch="lot-test")
    assert {m.status for m in letters} == {"printed"} and all(m.body_erased and not m.body for m in letters)


def test_rendering_twice_never_prints_a_letter_twice(tmp_path):
    queue_letter("A\nB\n75000 Paris", "s", "b", batch="lot-2")
    assert render_batch("lot-2", tmp_path) is not None
    assert render_batch("lot-2", tmp_path) is None
