"""One spec per kind of entry: how input becomes a FHIR resource and back."""

from ..enums import Section
from .base import Built, SectionSpec, Summary
from .entourage import EntourageSpec, OrganDonationSpec, UnconcernedSpec
from .history import AllergySpec, DisabilitySpec, DiseaseSpec, FamilyHistorySpec, HospitalisationSpec
from .observations import BloodGroupSpec, LifestyleSpec, MeasureSpec
from .treatments import TreatmentSpec, VaccinationSpec

SPECS: dict[str, SectionSpec] = {spec.key: spec for spec in [
    DiseaseSpec(), AllergySpec(), HospitalisationSpec(), FamilyHistorySpec(), TreatmentSpec(), VaccinationSpec(),
    DisabilitySpec(), LifestyleSpec(), BloodGroupSpec(), MeasureSpec(), EntourageSpec(), OrganDonationSpec(),
    UnconcernedSpec(),
]}
# The section each kind of entry is filed under (organ donation belongs to "entourage et volontés").
SECTION_OF = {key: (Section.ENTOURAGE if key == "organ_donation" else key) for key in SPECS}

__all__ = ["SECTION_OF", "SPECS", "Built", "SectionSpec", "Summary"]
