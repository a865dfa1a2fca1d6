"""Demo directory: fictitious professionals, two establishments and a maison de santé (idempotent).

RPPS numbers are fictitious: "1999900" + a 3-digit index + the Luhn key, a range chosen far from the numbers
the RPPS hands out (which start with 10); FINESS numbers likewise ("99" is no département).
"""

import unicodedata

from django.db import transaction
from django.utils import timezone

from .models import ActivityPlace, CareTeam, CareTeamMember, Establishment, Professional
from .professions import with_luhn_key

ESTABLISHMENTS = {
    "990000011": "Centre hospitalier de démonstration",
    "990000029": "Maison de santé pluriprofessionnelle des Tilleuls",
}
HOSPITAL, MSP = ESTABLISHMENTS
CARE_TEAM = "Maison de santé des Tilleuls"
# (family name, given names, TRE_G15 profession, TRE_R38 specialty, place, member of the care team)
PROFESSIONALS = [
    ("MARTIN", "Claire", "10", "SM54", MSP, True),
    ("BERNARD", "Julien", "10", "SM54", MSP, True),
    ("PETIT", "Sophie", "10", "SM53", MSP, True),
    ("DUBOIS", "Antoine", "10", "SM54", "", False),
    ("MOREAU", "Isabelle", "10", "SM26", "", False),
    ("LAURENT", "Hugo", "10", "SM40", HOSPITAL, False),
    ("SIMON", "Camille", "10", "SM04", HOSPITAL, False),
    ("MICHEL", "Nathalie", "10", "SM20", HOSPITAL, False),
    ("LEFEBVRE", "Thomas", "10", "SM42", HOSPITAL, False),
    ("LEROY", "Émilie", "10", "SM15", "", False),
    ("ROUX", "Pierre", "10", "SM38", "", False),
    ("DAVID", "Marion", "10", "SM59", HOSPITAL, False),
    ("BERTRAND", "Nicolas", "10", "SM74", HOSPITAL, False),
    ("MOREL", "Aurélie", "10", "SM03", HOSPITAL, False),
    ("FOURNIER", "Lucas", "10", "SM02", HOSPITAL, False),
    ("GIRARD", "Céline", "10", "SM18", HOSPITAL, False),
    ("BONNET", "Mathieu", "10", "SM32", "", False),
    ("DUPONT", "Anne", "21", "", "", False),
    ("LAMBERT", "François", "21", "", HOSPITAL, False),
    ("FONTAINE", "Léa", "50", "", MSP, True),
    ("ROUSSEAU", "Marie", "50", "", HOSPITAL, False),
    ("VINCENT", "Sarah", "60", "", MSP, True),
    ("MULLER", "Kevin", "60", "", MSP, True),
    ("LEFEVRE", "Chloé", "60", "SI01", MSP, True),
    ("FAURE", "Laura", "60", "", HOSPITAL, False),
    ("ANDRE", "Olivier", "40", "", "", False),
    ("MERCIER", "Julie", "40", "SCD01", "", False),
    ("BLANC", "Romain", "70", "", MSP, True),
    ("GUERIN", "Pauline", "70", "", "", False),
    ("BOYER", "Manon", "91", "", MSP, True),
]


def fold(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if c.isascii()).lower()


def demo_rpps(index: int) -> str:
    return with_luhn_key(f"1999900{index:03d}")


@transaction.atomic
def fill_demo_directory() -> int:
    """Create or refresh the demo directory; returns how many professionals it holds."""
    now = timezone.now()
    places = {}
    for finess, name in ESTABLISHMENTS.items():
        places[finess], _ = Establishment.objects.update_or_create(finess=finess, defaults={"name": name})
    team, _ = CareTeam.objects.get_or_create(name=CARE_TEAM, defaults={"establishment": places[MSP]})
    for index, (family, given, profession, specialty, place, member) in enumerate(PROFESSIONALS, start=1):
        values = {"family_name": family, "given_names": given, "profession_code": profession,
                  "specialty_code": specialty, "email": f"{fold(given)}.{fold(family)}@demo.carnet.invalid",
                  "active": True}
        professional, created = Professional.objects.get_or_create(rpps=demo_rpps(index), defaults=values)
        if not created and any(getattr(professional, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(professional, key, value)
            professional.updated_at = now
            professional.save()
        if place:
            ActivityPlace.objects.get_or_create(professional=professional, establishment=places[place])
        if member:
            CareTeamMember.objects.get_or_create(team=team, professional=professional)
    return len(PROFESSIONALS)
