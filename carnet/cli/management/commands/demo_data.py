"""`carnet demo_data`: a few hundred synthetic people for trying Carnet (idempotent).

Families with children come through the real registry import (so their notices and provisional
codes are in the dev outbox); some spaces are opened (CREATED) and a handful are ACTIVE with known
demo passwords, printed at the end.
"""

import datetime as dt
import io

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from carnet.common.dates import today
from carnet.identity.enums import Channel, RepresentationKind, RepresentationStatus, SpaceStatus
from carnet.identity.models import Account, Person, ProvisionalCode, Representation
from carnet.identity.registry import COLUMNS, RegistryImport
from carnet.identity.synthetic import People

DEMO_PASSWORD = "Carnet-Demo-2026!"
ACTIVE_HOLDERS = 8


class Command(BaseCommand):
    help = "Load demo people (families, children, created and active spaces). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=150)

    def handle(self, *args, **options):
        if not (settings.CARNET_DEMO or settings.DEBUG or settings.TESTING):
            raise CommandError("demo_data only runs in demo mode (CARNET_DEMO=1).")
        day = today()
        people = People(seed=1789)
        rows = list(people.families(options["households"], day, email_ratio=0.85))
        stream = io.StringIO()
        import csv

        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        stream.seek(0)
        report = RegistryImport(stream, day=day).run()
        self.stdout.write(f"registre de démonstration : {report.summary()}")

        parents = {r["parent_nir"] for r in rows if r["parent_nir"]}
        adults = [r for r in rows if not r["parent_nir"] and r["email"]]
        # Most demo holders have children, so the profile switch and family pages have something to show.
        adults = [r for r in adults if r["nir"] in parents][:5] + [r for r in adults if r["nir"] not in parents][:3] + [
            r for r in adults if r["nir"] in parents][5:] + [r for r in adults if r["nir"] not in parents][3:]
        with transaction.atomic():
            password_hash = make_password(DEMO_PASSWORD)
            logins = []
            for index, row in enumerate(adults[:ACTIVE_HOLDERS], start=1):
                person = Person.objects.get(nir=row["nir"])
                username = f"demo.titulaire{index}"
                if not Account.objects.filter(username=username).exists():
                    Account.objects.create(
                        person=person, username=username, password=password_hash, email=person.email,
                        phone=person.phone, otp_channel=Channel.EMAIL, terms_accepted_at=timezone.now(),
                        terms_version="demo",
                    )
                    person.status, person.activated_at = SpaceStatus.ACTIVE, timezone.now()
                    person.opened_at = person.opened_at or timezone.now()
                    person.save()
                    ProvisionalCode.objects.filter(person=person, used_at__isnull=True).update(
                        revoked_at=timezone.now()
                    )
                    # Half of the active parents have already activated their children's spaces.
                    if index % 2:
                        for child in Person.objects.filter(parent=person):
                            if child.is_minor():
                                child.status, child.activated_at = SpaceStatus.ACTIVE, timezone.now()
                                child.save()
                                Representation.objects.get_or_create(
                                    person=child, representative=person,
                                    status=RepresentationStatus.ACCEPTED,
                                    defaults={"kind": RepresentationKind.ATTACHED_PARENT, "invited_by": person},
                                )
                children = Person.objects.filter(parent=person).count()
                logins.append((username, person.full_name, children))
            # A third of the remaining adults are past their opposition window: CREATED, not activated.
            created = [r["nir"] for r in adults[ACTIVE_HOLDERS::3]]
            Person.objects.filter(nir__in=created, status=SpaceStatus.NOTIFIED).update(
                status=SpaceStatus.CREATED, opened_at=timezone.now(),
                opposition_deadline=day - dt.timedelta(days=1),
            )
        self._fill_records(logins)
        from carnet.sharing.demo import fill_demo_directory
        self.stdout.write(f"annuaire de démonstration : {fill_demo_directory()} professionnel(s)")
        from carnet.messaging.demo import fill_demo_messages
        first = Person.objects.filter(account__username=logins[0][0]).first() if logins else None
        self.stdout.write(f"messagerie de démonstration : {fill_demo_messages(first) if first else 0} conversation(s)")
        self.stdout.write("")
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD} ; le code de connexion "
                          "à usage unique arrive dans la boîte d'envoi /dev/outbox/) :")
        for username, name, children in logins:
            suffix = f", {children} enfant(s) rattaché(s)" if children else ""
            self.stdout.write(f"  {username:<20} {name}{suffix}")
        self.stdout.write(
            "Espaces à activer : "
            f"{Person.objects.filter(status__in=[SpaceStatus.NOTIFIED, SpaceStatus.CREATED]).count()}"
            " (codes provisoires dans la boîte d'envoi)."
        )

    def _fill_records(self, logins) -> None:
        """Documents and a medical profile for the demo holders and their active children (first run only)."""
        import random

        from carnet.medical.demo import fill_demo_profile
        from carnet.record.demo import fill_demo_documents
        from carnet.record.models import Document

        rng = random.Random(1789)  # noqa: S311 - demo data
        holders = Person.objects.filter(account__username__in=[login[0] for login in logins])
        people = list(holders) + list(Person.objects.filter(parent__in=holders, status=SpaceStatus.ACTIVE))
        filled = 0
        for person in people:
            first_time = not Document.objects.filter(person=person).exists()
            filled += fill_demo_documents(person, rng)
            if first_time:
                fill_demo_profile(person, rng)
        self.stdout.write(f"dossiers de démonstration : {filled} document(s) ajouté(s)")
