"""The health measures (mesures de santé): LOINC codes, UCUM units and plausible ranges.

Interstitial glucose: LOINC 99504-3 "Glucose [Mass/volume] in Interstitial fluid" (as used by
published FHIR profiles for continuous glucose monitoring); 97507-8 is the *average* over a
reporting period, which is not what a person types after a reading.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


@dataclass(frozen=True)
class Measure:
    key: str  # URL slug and API name
    loinc: str
    label: Promise
    unit: str  # UCUM code
    unit_label: str  # what people read
    low: Decimal
    high: Decimal
    decimals: int = 1
    category: str = "vital-signs"
    computed: bool = False  # BMI: derived from weight and height, never typed
    growth: str = ""  # growth-curve reference key for children
    components: tuple[tuple[str, Promise], ...] = ()  # blood pressure: (LOINC, label) per value


SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"

MEASURES: dict[str, Measure] = {m.key: m for m in [
    Measure("poids", "29463-7", _("Poids"), "kg", "kg", Decimal("0.3"), Decimal("400"), 2, growth="weight"),
    Measure("taille", "8302-2", _("Taille"), "cm", "cm", Decimal("20"), Decimal("250"), 1, growth="height"),
    Measure("imc", "39156-5", _("Indice de masse corporelle (IMC)"), "kg/m2", "kg/m²", Decimal("5"),
            Decimal("100"), 1, computed=True, growth="bmi"),
    Measure("tour-de-taille", "8280-0", _("Tour de taille"), "cm", "cm", Decimal("20"), Decimal("300"), 1),
    Measure("temperature", "8310-5", _("Température"), "Cel", "°C", Decimal("30"), Decimal("45"), 1),
    Measure("glycemie", "2339-0", _("Glycémie (sang)"), "g/L", "g/L", Decimal("0.1"), Decimal("10"), 2,
            category="laboratory"),
    Measure("glycemie-interstitielle", "99504-3", _("Glycémie interstitielle (capteur)"), "g/L", "g/L",
            Decimal("0.1"), Decimal("10"), 2, category="laboratory"),
    Measure("hba1c", "4548-4", _("Hémoglobine glyquée (HbA1c)"), "%", "%", Decimal("3"), Decimal("20"), 1,
            category="laboratory"),
    Measure("tension", "85354-9", _("Tension artérielle"), "mm[Hg]", "mmHg", Decimal("30"), Decimal("300"), 0,
            components=((SYSTOLIC, _("Pression systolique")), (DIASTOLIC, _("Pression diastolique")))),
    Measure("frequence-cardiaque", "8867-4", _("Fréquence cardiaque"), "/min", "battements/min", Decimal("20"),
            Decimal("250"), 0),
    Measure("douleur", "72514-3", _("Douleur (0 à 10)"), "{score}", "/10", Decimal("0"), Decimal("10"), 0),
    Measure("perimetre-cranien", "9843-4", _("Périmètre crânien"), "cm", "cm", Decimal("20"), Decimal("70"), 1,
            growth="head"),
    Measure("pas", "41950-7", _("Nombre de pas par jour"), "/d", "pas/jour", Decimal("0"), Decimal("100000"), 0,
            category="activity"),
]}
BY_LOINC: dict[str, Measure] = {m.loinc: m for m in MEASURES.values()}


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """Weight over height squared, to one decimal."""
    metres = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (metres * metres)).quantize(Decimal("0.1"))
