"""Historique des accès: filters (coded values only in URLs), plain French labels, document links, and the
CSV and FHIR AuditEvent exports — for the holder and for a representative; strangers get 404."""

import csv
import datetime as dt
import html
import io
import json
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from carnet.identity.enums import SpaceStatus
from carnet.portal.views.account import ACTION_LABELS, HISTORY_FILTERS
from carnet.record import actions as record_actions
from carnet.sharing.events import authorise, record
from carnet.sharing.models import AccessEvent
from carnet.sharing.policy import Action, PolicyDenied, Role
from tests.record.conftest import make_pdf

from .helpers import sign_in

pytestmark = pytest.mark.django_db

CODED = {"date_from": r"\d{4}-\d{2}-\d{2}", "date_to": r"\d{4}-\d{2}-\d{2}", "who": r"[a-z]+", "kind": r"[a-z]+",
         "outcome": r"[a-z]+", "page": r"\d+", "profil": r"[0-9a-f-]{36}"}


@pytest.fixture
def holder(family):
    return family.holder()


def browser_for(account) -> Client:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, account)
    return client


@pytest.fixture
def browser(holder):
    return browser_for(holder)


def at(day, hour=12):
    return time_machine.travel(dt.datetime(2026, 3, day, hour, 0, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def events(holder, family):
    """A holder's history: own login, a representative's read, a stranger's denial, the system's import."""
    me = holder.person
    representative, stranger = family.holder().person, family.holder().person
    with at(2):
        record(me, actor=me, role=Role.HOLDER, action="account.login")
    with at(5):
        record(me, actor=representative, role=Role.REPRESENTATIVE, action="record.read")
    with at(9):
        with pytest.raises(PolicyDenied):
            authorise(stranger, Action.READ_RECORD, me)
    with at(12):
        record(me, actor=None, role=Role.SYSTEM, action="care_history.import", reason="insurer")
        record(me, actor=representative, role=Role.REPRESENTATIVE, action="document.add",
               subject=f"document:{uuid.uuid4()}")
    return me, representative, stranger


def actions_shown(response):
    return [e.action for e in response.context["page_obj"].object_list]


def get(browser, **params):
    return browser.get(reverse("portal:history"), params)


def test_every_recorded_action_code_has_a_plain_french_label():
    """Collect the codes the code base records (record(... action="..."), trace(..., "..."), the policy's
    actions) and require a label for each: no raw code ever reaches the holder."""
    root = Path(__file__).resolve().parents[2] / "carnet"
    codes = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', text))
        codes |= set(re.findall(r'trace\([^)]*?"([a-z_]+\.[a-z_]+)"', text))
        codes |= set(re.findall(r'"(document\.[a-z_]+)"', text))
        codes |= set(re.findall(r'"((?:account|representative|space)\.[a-z_]+)"', text))
    codes |= {str(a) for a in Action}
    missing = sorted(c for c in codes if c not in ACTION_LABELS)
    assert not missing, missing


def test_the_page_lists_events_in_plain_french_with_reasons(browser, events):
    page = html.unescape(get(browser).content.decode())
    for label in ("Connexion", "Consultation du dossier", "Import de l'historique des soins par l'Assurance Maladie",
                  "Ajout d'un document", "Refusé", "Aucun lien avec ce profil", "Système", "Vous"):
        assert label in page, label


def test_filters_by_period_in_paris_days(browser, events):
    assert actions_shown(get(browser, date_from="2026-03-05", date_to="2026-03-09")) == [
        "record.read", "record.read"]
    assert actions_shown(get(browser, date_to="2026-03-02")) == ["account.login"]


@pytest.mark.parametrize("who, expected", [
    ("me", ["account.login"]),
    ("representatives", ["document.add", "record.read"]),
    ("system", ["care_history.import"]),
    ("others", ["record.read"]),  # the stranger's denied attempt
])
def test_filters_by_who(browser, events, who, expected):
    assert actions_shown(get(browser, who=who)) == expected


@pytest.mark.parametrize("kind, expected", [
    ("document", ["document.add"]),
    ("profile", ["care_history.import", "record.read", "record.read"]),
    ("account", ["account.login"]),
    ("family", []),
])
def test_filters_by_kind_of_action(browser, events, kind, expected):
    assert actions_shown(get(browser, kind=kind)) == expected


def test_filters_by_outcome(browser, events):
    denied = get(browser, outcome="denied").context["page_obj"].object_list
    assert [(e.action, e.allowed) for e in denied] == [("record.read", False)]
    assert len(get(browser, outcome="allowed").context["page_obj"].object_list) == 4


def test_invalid_filters_are_refused_and_never_echoed_into_links(browser, events):
    response = get(browser, who="<script>", date_from="pas une date", kind="document")
    assert response.status_code == 400
    assert b"<script>" not in response.content
    assert len(response.context["page_obj"].object_list) == 5  # nothing applied


def test_no_free_text_in_any_generated_url(browser, holder, events):
    for _ in range(25):  # enough for a second page
        record(holder.person, actor=None, role=Role.SYSTEM, action="space.view")
    response = get(browser, date_from="2026-01-01", who="system", kind="profile", outcome="allowed",
                   q="mon cancer", author="Dr X")
    hrefs = re.findall(r'href="([^"]*)"', response.content.decode())
    checked = 0
    for href in hrefs:
        url = urlsplit(href.replace("&amp;", "&"))
        if not (url.path == "" or url.path.startswith("/historique")) or not url.query:
            continue
        for key, value in parse_qsl(url.query):
            assert key in CODED, href
            assert re.fullmatch(CODED[key], value), href
        checked += 1
    assert checked >= 4  # the two exports and the pages
    assert not [h for h in hrefs if "cancer" in h or "author" in h]
    assert set(HISTORY_FILTERS) <= set(CODED)


def test_pagination_keeps_the_filters(browser, holder):
    for _ in range(25):
        record(holder.person, actor=None, role=Role.SYSTEM, action="space.view")
    first = get(browser, who="system")
    assert "?who=system&amp;page=2" in first.content.decode()
    assert len(browser.get(reverse("portal:history") + "?who=system&page=2").context["page_obj"].object_list) == 5


def test_a_document_event_links_to_the_document_while_it_exists(browser, holder):
    me = holder.person
    document = record_actions.add_document(me, me, content=make_pdf(), type_code="DOCPAT03", title="CR")
    gone = uuid.uuid4()
    record(me, actor=None, role=Role.SYSTEM, action="record.read", subject=f"document:{document.uuid}")
    record(me, actor=None, role=Role.SYSTEM, action="record.read", subject=f"document:{gone}")
    page = get(browser).content.decode()
    assert reverse("portal:document", args=[document.uuid]) in page
    assert str(gone) not in page
    record_actions.delete_document(me, me, document)
    assert reverse("portal:document", args=[document.uuid]) not in get(browser).content.decode()


def read_csv(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def export(browser, name, **params):
    response = browser.get(reverse(f"portal:{name}"), params)
    if response.status_code == 200:
        assert response["Content-Disposition"].startswith("attachment; filename=")
        assert "no-store" in response["Cache-Control"]
    return response


def test_csv_export_has_a_header_and_iso_paris_dates_and_follows_the_filters(browser, events):
    rows = read_csv(export(browser, "history_csv"))
    assert rows[0][:4] == ["Date", "Qui", "À quel titre", "Action"]
    assert len(rows) == 6
    login = next(r for r in rows if r[4] == "account.login")
    assert login[0] == "2026-03-02T13:00:00+01:00"
    assert login[1] == events[0].full_name and login[3] == "Connexion"
    denied = next(r for r in rows if r[5] == "Refusé")
    assert denied[1] == events[2].full_name and denied[6] == "Aucun lien avec ce profil"
    only = read_csv(export(browser, "history_csv", outcome="denied"))
    assert len(only) == 2


def test_fhir_export_is_a_valid_r4_bundle_of_audit_events(browser, events):
    me = events[0]
    response = export(browser, "history_fhir")
    assert response["Content-Type"].startswith("application/fhir+json")
    data = json.loads(b"".join(response.streaming_content))
    bundle = Bundle.model_validate(data)
    assert bundle.type == "collection" and len(bundle.entry) == 5
    by_action = {e.resource.subtype[0].code: e.resource for e in bundle.entry if e.resource.outcome == "0"}
    login = by_action["account.login"]
    assert login.type.code == "110114" and login.subtype[0].display == "Connexion"
    assert login.recorded.isoformat().startswith("2026-03-02T12:00:00")
    assert login.agent[0].who.display == me.full_name and login.agent[0].requestor is True
    assert login.entity[0].what.reference == f"Patient/{me.uuid}"
    added = by_action["document.add"]
    assert added.action == "C"
    assert added.entity[1].what.reference.startswith("DocumentReference/")
    denial = next(e.resource for e in bundle.entry if e.resource.outcome != "0")
    assert denial.outcome == "4" and denial.outcomeDesc == "Aucun lien avec ce profil"
    assert denial.agent[0].who.display == events[2].full_name


def test_an_empty_fhir_export_is_still_valid(browser, holder):
    data = json.loads(b"".join(export(browser, "history_fhir", kind="family").streaming_content))
    assert "entry" not in data
    Bundle.model_validate(data)


def test_a_representative_sees_and_exports_the_childs_history_and_the_export_is_recorded(represented_child):
    parent, child = represented_child
    record(child, actor=None, role=Role.SYSTEM, action="care_history.import", reason="insurer")
    client = browser_for(parent)
    session = client.session
    session["acting_for"] = str(child.uuid)
    session.save()
    page = client.get(reverse("portal:history"))
    assert page.context["profile"] == child
    assert f"profil={child.uuid}" in page.content.decode()
    rows = read_csv(export(client, "history_csv", profil=str(child.uuid)))
    assert any(r[4] == "care_history.import" for r in rows[1:])
    fhir = json.loads(b"".join(export(client, "history_fhir", profil=str(child.uuid)).streaming_content))
    assert Bundle.model_validate(fhir).entry[0].resource.entity[0].what.reference == f"Patient/{child.uuid}"
    recorded = AccessEvent.objects.filter(person=child, actor=parent.person, subject__startswith="history:")
    assert sorted(recorded.values_list("subject", flat=True)) == ["history:csv", "history:fhir"]
    assert "Export de l'historique des accès (CSV)" in html.unescape(
        client.get(reverse("portal:history")).content.decode())


def test_a_stranger_gets_404_and_the_attempt_is_recorded(holder, family, events):
    stranger = family.holder()
    client = browser_for(stranger)
    for name in ("history_csv", "history_fhir"):
        assert client.get(reverse(f"portal:{name}"), {"profil": str(holder.person.uuid)}).status_code == 404
    assert AccessEvent.objects.filter(person=holder.person, actor=stranger.person, allowed=False,
                                      subject="history:csv").exists()


def test_a_representative_of_one_child_gets_404_for_another(represented_child, family):
    parent, _ = represented_child
    other_child = family.person(age=6, status=SpaceStatus.ACTIVE)
    client = browser_for(parent)
    assert client.get(reverse("portal:history_csv"), {"profil": str(other_child.uuid)}).status_code == 404


def test_unknown_or_malformed_profile_is_404(browser):
    assert export(browser, "history_csv", profil=str(uuid.uuid4())).status_code == 404
    assert export(browser, "history_csv", profil="nimporte").status_code == 404


def test_exports_need_a_signed_in_person(client):
    for name in ("history_csv", "history_fhir"):
        response = client.get(reverse(f"portal:{name}"))
        assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_emergency_accesses_are_shown_in_plain_french(browser, holder):
    from carnet.sharing.emergency import open_emergency_access
    from carnet.sharing.models import Professional

    me = holder.person
    doctor = Professional.objects.create(rpps="99900000001", family_name="Urgentiste", given_names="Paul",
                                         profession_code="10")
    open_emergency_access(doctor, me, kind="break_glass", reason="Inconscient")
    authorise(doctor, Action.READ_RECORD, me)
    page = html.unescape(get(browser).content.decode())
    for label in ("Accès au dossier en situation d'urgence", "Accès d'urgence", "Paul Urgentiste",
                  "Consultation du dossier"):
        assert label in page, label
    assert "Inconscient" not in page
    assert actions_shown(get(browser, kind="sharing")) == ["sharing.emergency"]


def test_every_policy_reason_of_the_sharing_rules_added_here_has_a_label():
    from carnet.portal.views.account import REASON_LABELS

    new = {"professionals_only", "emergency", "samu", "emergency_no_reason", "emergency_refused", "samu_refused",
           "not_samu_regulator", "not_health_administrator", "administrateur_sante", "not_author"}
    assert not sorted(new - set(REASON_LABELS))
