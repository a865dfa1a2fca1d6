"""The short paths bench/sharing.py measures keep the rules exact: the four pair lookups asked in one statement
inside `policy.remembering()` answer what each asks alone, and the event write that locks the person and reads
the chain head in one round trip still orders concurrent writers (real PostgreSQL, two connections)."""

import datetime as dt
import itertools
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carnet.identity.enums import SpaceStatus
from carnet.notifications.models import Notification
from carnet.sharing import policy
from carnet.sharing.events import authorise, record, verify_chain
from carnet.sharing.models import (
    AccessEvent,
    ActivityPlace,
    Authorisation,
    Block,
    CareRole,
    CareTeam,
    CareTeamMember,
    EmergencyAccess,
    Establishment,
    Professional,
)
from carnet.sharing.policy import Action

_rpps = itertools.count(40000000001)
PAIR = ("is_blocked", "is_authorised", "roles_of", "emergency_in_force")


def pro() -> Professional:
    return Professional.objects.create(rpps=str(next(_rpps)), family_name="Durand", given_names="Luc",
                                       profession_code="10")


def answers_alone(person, professional) -> dict:
    opening = policy.emergency_in_force(person, professional)
    return {"is_blocked": policy.is_blocked(person, professional),
            "is_authorised": policy.is_authorised(person, professional),
            "roles_of": policy.roles_of(person, professional),
            "emergency_in_force": opening.pk if opening else None}


def answers_together(person, professional) -> tuple[dict, int]:
    with policy.remembering(), CaptureQueriesContext(connection) as captured:
        opening = policy.emergency_in_force(person, professional)
        answers = {"is_blocked": policy.is_blocked(person, professional),
                   "is_authorised": policy.is_authorised(person, professional),
                   "roles_of": policy.roles_of(person, professional),
                   "emergency_in_force": opening.pk if opening else None}
    return answers, len(captured.captured_queries)


@pytest.mark.django_db
def test_the_pair_asked_in_one_statement_answers_as_each_lookup_alone(family):
    person = family.person(status=SpaceStatus.ACTIVE)
    now = timezone.now()
    plain, blocked, by_team, by_place, expired, revoked, treating, urgent, ended = (pro() for _ in range(9))
    team = CareTeam.objects.create(name="Équipe de soins")
    CareTeamMember.objects.create(team=team, professional=by_team)
    place = Establishment.objects.create(finess="750000001", name="Clinique")
    ActivityPlace.objects.create(professional=by_place, establishment=place)
    Authorisation.objects.create(person=person, care_team=team, granted_by=person)
    Authorisation.objects.create(person=person, establishment=place, granted_by=person)
    Authorisation.objects.create(person=person, professional=blocked, granted_by=person)
    Authorisation.objects.create(person=person, professional=expired, granted_by=person,
                                 expires_at=now - dt.timedelta(days=1))
    Authorisation.objects.create(person=person, professional=revoked, granted_by=person, revoked_at=now)
    Block.objects.create(person=person, professional=blocked, blocked_by=person)
    Block.objects.create(person=person, professional=plain, blocked_by=person, lifted_at=now)
    CareRole.objects.create(person=person, professional=treating, kind="medecin_traitant")
    CareRole.objects.create(person=person, professional=treating, kind="administrateur_sante")
    CareRole.objects.create(person=person, professional=ended, kind="medecin_traitant", ended_at=now)
    for kind, hours in (("break_glass", 1), ("samu", 2)):
        EmergencyAccess.objects.create(person=person, professional=urgent, kind=kind, reason_sealed=b"-",
                                       expires_at=now + dt.timedelta(hours=hours))
    EmergencyAccess.objects.create(person=person, professional=ended, kind="break_glass", reason_sealed=b"-",
                                   opened_at=now - dt.timedelta(days=2), expires_at=now - dt.timedelta(days=1))

    expected = {plain: (False, False, set()), blocked: (True, True, set()), by_team: (False, True, set()),
                by_place: (False, True, set()), expired: (False, False, set()), revoked: (False, False, set()),
                treating: (False, False, {"medecin_traitant", "administrateur_sante"}),
                urgent: (False, False, set()), ended: (False, False, set())}
    for professional, (is_blocked, is_authorised, roles) in expected.items():
        alone = answers_alone(person, professional)
        together, statements = answers_together(person, professional)
        assert together == alone, professional
        assert statements == 1
        assert (alone["is_blocked"], alone["is_authorised"], alone["roles_of"]) == (is_blocked, is_authorised, roles)
        assert (alone["emergency_in_force"] is not None) == (professional == urgent)
    with policy.remembering():
        assert policy.emergency_in_force(person, urgent).kind == "samu"  # the latest expiry, as alone


@pytest.mark.django_db
def test_the_block_asked_with_a_callers_own_statement_answers_as_is_blocked(family):
    """ITI-65 reads the sender's block with the patient (`block_sql`) and hands it to the policy
    (`remember_block`): the same answer as `is_blocked`, for a block in force, a lifted one, and another's."""
    person, blocked, lifted, other = family.person(status=SpaceStatus.ACTIVE), pro(), pro(), pro()
    Block.objects.create(person=person, professional=blocked, blocked_by=person)
    Block.objects.create(person=person, professional=lifted, blocked_by=person, lifted_at=timezone.now())
    Block.objects.create(person=family.person(status=SpaceStatus.ACTIVE), professional=other, blocked_by=person)
    sql = "SELECT " + policy.block_sql('p."id"') + ' FROM "identity_person" p WHERE p."id" = %s'
    for professional in (blocked, lifted, other):
        with connection.cursor() as cursor:
            cursor.execute(sql, [professional.pk, person.pk])
            (answer,) = cursor.fetchone()
        assert bool(answer) == policy.is_blocked(person, professional), professional
        with policy.remembering(), CaptureQueriesContext(connection) as captured:
            policy.remember_block(person, professional, answer)
            assert policy.is_blocked(person, professional) == bool(answer)
        assert captured.captured_queries == []  # the policy used the answer it was handed
    policy.remember_block(person, blocked, False)  # outside remembering(): nothing kept, the policy asks itself
    assert policy.is_blocked(person, blocked)


@pytest.mark.django_db
def test_a_remembered_opening_reads_its_expiry_on_demand(family):
    person, urgent = family.person(status=SpaceStatus.ACTIVE), pro()
    until = timezone.now() + dt.timedelta(hours=3)
    EmergencyAccess.objects.create(person=person, professional=urgent, kind="break_glass", reason_sealed=b"-",
                                   expires_at=until)
    with policy.remembering():
        opening = policy.emergency_in_force(person, urgent)
        assert opening.expires_at == until


@pytest.mark.django_db
def test_only_a_professionals_first_allowed_access_is_told_to_the_holder(family):
    person = family.holder().person
    dr = pro()
    authorise(dr, Action.WRITE_RECORD, person)  # allowed (writing needs no authorisation): the first access
    authorise(dr, Action.WRITE_RECORD, person)
    with pytest.raises(policy.PolicyDenied):
        authorise(pro(), Action.READ_RECORD, person)  # a denial is no access
    told = Notification.objects.filter(person=person, code="first_professional_access")

    assert told.count() == 1
    assert AccessEvent.objects.filter(person=person).count() == 3 and verify_chain(person)


def _wait_until_waiting_for_a_lock(pid: int) -> None:
    with connections["default"].cursor() as cursor:
        for _ in range(200):
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.02)
    raise AssertionError("the second writer never waited for the person lock")


@pytest.mark.django_db(transaction=True)
def test_a_writer_waiting_for_the_person_lock_chains_after_the_one_holding_it(family):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and pg_stat_activity: PostgreSQL")
    person = family.person(status=SpaceStatus.ACTIVE)
    record(person, actor=person, role="holder", action="first")
    first_done, second_pid, errors = threading.Event(), [], []

    def second_writer():
        try:
            second_pid.append(connection.cursor().connection.info.backend_pid)
            first_done.wait(10)
            record(person, actor=person, role="holder", action="third")
        except Exception as error:  # reported by the main thread  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with transaction.atomic():
        record(person, actor=person, role="holder", action="second")  # holds the person lock until commit
        first_done.set()
        while not second_pid:
            time.sleep(0.01)
        _wait_until_waiting_for_a_lock(second_pid[0])
    thread.join(10)

    assert not errors
    events = list(AccessEvent.objects.filter(person=person).order_by("sequence"))
    assert [(e.sequence, e.action) for e in events] == [(1, "first"), (2, "second"), (3, "third")]
    assert events[2].previous_hash == events[1].hash and verify_chain(person)
