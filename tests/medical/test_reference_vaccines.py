"""The vaccine list (data/vaccines.json) against the CI-SIS value sets of the child health certificates.

Literal codes from shared/samples/valuesets/JDV_VaccinCSE9_CISIS.xml and JDV_VaccinCSE24_CISIS.xml
(ansforge/TestContenuCDA-3-0, jeuxDeValeurs/, commit 7cd489b39368809df9bcf2cfef5e5d6354438a02).
"""

from carnet.medical import vaccines

# ATC codes of the CSE value sets, by the vaccine of our list they code exactly.
CISIS_ATC = {"dtpolio": "J07CA01", "hepatitis_b": "J07BC01", "meningococcal_c": "J07AH07",
             "meningococcal_acwy": "J07AH08", "meningococcal_b": "J07AH09", "mmr": "J07BD52", "rotavirus": "J07BH"}


def test_atc_codes_match_the_ci_sis_value_sets():
    for vaccine_id, atc in CISIS_ATC.items():
        assert vaccines.vaccine(vaccine_id)["atc"] == atc


def test_verified_only_with_a_cited_source_for_every_claim():
    sources = vaccines.reference()["source"]["verification_sources"]
    assert set(sources) == {"cisis", "presse2025"}
    for v in vaccines.vaccines():
        assert v["checks"], v["id"]
        if v["verified"]:
            assert not any("NON vérifié" in c for c in v["checks"]), v["id"]
            assert all(any(s in c for s in sources) for c in v["checks"]), v["id"]
    assert {v["id"] for v in vaccines.vaccines() if v["verified"]} == {"meningococcal_acwy", "meningococcal_b"}


def test_the_2025_meningococcal_obligations():
    assert vaccines.vaccine("meningococcal_b")["status"] == "mandatory"
    assert "3, 5 et 12 mois" in vaccines.vaccine("meningococcal_b")["schedule"]
    assert "6 et 12 mois" in vaccines.vaccine("meningococcal_acwy")["schedule"]
