"""Entourage et volontés: contacts (RelatedPerson), the organ-donation declaration, and the
"je n'en ai pas" declarations of the other sections (an empty FHIR List, reason nil known)."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..enums import Section
from ..errors import MedicalError
from .base import LOCAL, Built, SectionSpec, Summary, choice, choices_list, clean, code_of, coding, concept, text

ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"
ROLE_SYSTEM = LOCAL + "entourage-role"
ROLES = [
    ("emergency", gettext_lazy("Personne à prévenir en cas d'urgence")),
    ("trusted", gettext_lazy("Personne de confiance")),
    ("caregiver", gettext_lazy("Proche aidant")),
    ("helped", gettext_lazy("Proche aidé")),
]
RELATIONS = [
    ("MTH", gettext_lazy("Mère")), ("FTH", gettext_lazy("Père")), ("CHILD", gettext_lazy("Enfant")),
    ("SPS", gettext_lazy("Conjoint(e)")), ("GUARD", gettext_lazy("Tuteur ou tutrice")),
    ("ONESELF", gettext_lazy("Moi-même")), ("FRND", gettext_lazy("Autre")),
]
PREFIXES = [("Mme", gettext_lazy("Madame")), ("M.", gettext_lazy("Monsieur"))]
NAME_MAX, EMAIL_MAX = 50, 100
PHONE_RE = re.compile(r"^\+?[0-9 .]{6,20}$")


class EntourageSpec(SectionSpec):
    """A contact with one or more roles; at most one trusted person (checked by the action)."""

    key = Section.ENTOURAGE
    resource_type = "RelatedPerson"
    subject_field = "patient"

    def build(self, person, data):
        roles = choices_list(data, "roles", ROLES, required=True)
        if "trusted" in roles and person.is_minor():
            raise MedicalError(_("La personne de confiance ne peut être désignée que par une personne majeure."),
                               "roles")
        relation = choice(data, "relation", RELATIONS) or "FRND"
        given = text(data, "first_name", NAME_MAX, required=True, label=_("Prénom"))
        family = text(data, "last_name", NAME_MAX, required=True, label=_("Nom"))
        telecom = []
        for name, system, use in (("mobile", "phone", "mobile"), ("phone", "phone", "home")):
            value = text(data, name, 20)
            if value and not PHONE_RE.match(value):
                raise MedicalError(_("Numéro de téléphone invalide."), name)
            if value:
                telecom.append({"system": system, "value": value, "use": use})
        email = text(data, "email", EMAIL_MAX)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise MedicalError(_("Adresse électronique invalide."), "email") from None
            telecom.append({"system": "email", "value": email})
        if not telecom:
            raise MedicalError(_("Indiquez au moins un numéro de téléphone ou une adresse électronique."), "mobile")
        prefix = choice(data, "prefix", PREFIXES)
        codings = [coding(ROLE_SYSTEM, r) for r in roles]
        if "emergency" in roles:
            codings.append(coding(V2_CONTACT_ROLE, "C", "Emergency Contact"))
        resource = clean({
            "active": True,
            "relationship": [concept("", *codings), concept("", coding(ROLE_CODE, relation))],
            "name": [{"family": family, "given": [given], "prefix": [prefix] if prefix else []}],
            "telecom": telecom,
            "address": [{"line": [text(data, "address", 200)], "postalCode": text(data, "postal_code", 10),
                         "city": text(data, "city", 100), "country": text(data, "country", 100)}],
        })
        return Built(resource, code_system=ROLE_CODE, code=relation, status="active", category="+".join(roles))

    @staticmethod
    def roles_of(r) -> list[str]:
        return [c["code"] for c in (r.get("relationship") or [{}])[0].get("coding") or []
                if c.get("system") == ROLE_SYSTEM]

    def summary(self, r):
        name = (r.get("name") or [{}])[0]
        title = " ".join([*(name.get("prefix") or []), *(name.get("given") or []), name.get("family", "")])
        relation = code_of((r.get("relationship") or [{}, {}])[-1], ROLE_CODE)
        details = [(_("Rôle"), ", ".join(str(dict(ROLES)[x]) for x in self.roles_of(r))),
                   (_("Lien"), str(dict(RELATIONS).get(relation, "")))]
        labels = {"mobile": _("Mobile"), "home": _("Téléphone fixe")}
        for t in r.get("telecom") or []:
            details.append((labels.get(t.get("use"), _("Courriel")), t["value"]))
        address = (r.get("address") or [{}])[0]
        line = " ".join([*(address.get("line") or []), address.get("postalCode", ""), address.get("city", ""),
                         address.get("country", "")]).strip()
        if line:
            details.append((_("Adresse"), line))
        return Summary(title.strip(), "", details)

    def initial(self, r):
        name = (r.get("name") or [{}])[0]
        telecom = {t.get("use") or t["system"]: t["value"] for t in r.get("telecom") or []}
        address = (r.get("address") or [{}])[0]
        return {"roles": self.roles_of(r), "relation": code_of((r.get("relationship") or [{}, {}])[-1], ROLE_CODE),
                "prefix": (name.get("prefix") or [""])[0], "first_name": (name.get("given") or [""])[0],
                "last_name": name.get("family", ""), "mobile": telecom.get("mobile", ""),
                "phone": telecom.get("home", ""), "email": telecom.get("email", ""),
                "address": (address.get("line") or [""])[0], "postal_code": address.get("postalCode", ""),
                "city": address.get("city", ""), "country": address.get("country", "")}


ORGAN_DONATION_POSITIONS = [
    ("informed", gettext_lazy("J'ai pris connaissance des règles du don d'organes (consentement présumé)")),
    ("refusal_registered", gettext_lazy("Je suis inscrit(e) au registre national des refus")),
    ("wishes_told", gettext_lazy("J'ai fait connaître ma position à mes proches")),
]


class OrganDonationSpec(SectionSpec):
    """A dated declaration about organ donation (France has presumed consent): a FHIR Basic."""

    key = "organ_donation"
    resource_type = "Basic"
    single = True

    def build(self, person, data):
        position = choice(data, "position", ORGAN_DONATION_POSITIONS, required=True, label=_("Position"))
        now = timezone.now()
        resource = {
            "code": concept(_("Don d'organes"), coding(LOCAL + "declaration", "organ-donation")),
            "created": now.date().isoformat(),
            "extension": [{"url": "https://carnet.sante.fr/fhir/StructureDefinition/organ-donation-position",
                           "valueCode": position}],
        }
        return Built(resource, code_system=LOCAL + "declaration", code="organ-donation", effective=now,
                     status="active", category="organ_donation")

    def summary(self, r):
        position = (r.get("extension") or [{}])[0].get("valueCode", "")
        return Summary(str(dict(ORGAN_DONATION_POSITIONS).get(position, "")),
                       formats.date_format(dt.datetime.fromisoformat(r["created"]), "j F Y"), [])

    def initial(self, r):
        return {"position": (r.get("extension") or [{}])[0].get("valueCode", "")}


class UnconcernedSpec(SectionSpec):
    """"Je n'en ai pas": a dated, empty List whose emptyReason is "nil known"."""

    key = "unconcerned"
    resource_type = "List"

    def build(self, person, data):
        section = str(data.get("section") or "")
        now = timezone.now()
        resource = {
            "status": "current",
            "mode": "snapshot",
            "code": concept(str(Section(section).label), coding(LOCAL + "profile-section", section)),
            "date": now.isoformat(timespec="seconds"),
            "emptyReason": concept(_("Aucun"), coding("http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                                      "nilknown", "Nil Known")),
        }
        return Built(resource, code_system=LOCAL + "profile-section", code=section, effective=now,
                     status="current", category="unconcerned")

    def summary(self, r):
        return Summary(_("Je n'en ai pas"), formats.date_format(dt.datetime.fromisoformat(r["date"]), "j F Y"))

    def initial(self, r):
        return {}
