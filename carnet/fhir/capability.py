"""GET /fhir/metadata: the CapabilityStatement, built from the handlers so it declares exactly the
interactions and search parameters implemented, nothing more."""

from typing import Any

from django.utils.translation import gettext as _

from .http import ACCESS_DECISION_SYSTEM
from .params import DEFAULT_COUNT, MAX_COUNT
from .resources import handlers

# When this statement last changed in substance (CapabilityStatement.date is required).
STATEMENT_DATE = "2026-11-26"
RESTFUL_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
# The writes of carnet/fhir/write.py (IHE MHD / PDSm), per type, added to the handlers' read interactions.
WRITE_INTERACTIONS: dict[str, tuple[str, ...]] = {"DocumentReference": ("create", "patch")}


def capability_statement(base: str) -> dict[str, Any]:
    resources = []
    for handler in handlers().values():
        resource: dict[str, Any] = {
            "type": handler.type,
            "interaction": [{"code": code} for code in (*handler.interactions,
                                                        *WRITE_INTERACTIONS.get(handler.type, ()))],
        }
        if handler.documentation:
            resource["documentation"] = handler.documentation
        params = []
        for name, param in handler.params.items():
            declared = {"name": name, "type": param.type, "documentation": param.documentation}
            if param.definition:
                declared["definition"] = param.definition
            params.append(declared)
        if params:
            resource["searchParam"] = params
        resources.append(resource)
    return {
        "resourceType": "CapabilityStatement",
        "id": "carnet",
        "url": f"{base}metadata",
        "name": "CarnetFhirServer",
        "title": "Carnet — API FHIR R4",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": "Carnet",
        "kind": "instance",
        "software": {"name": "Carnet"},
        "implementation": {"description": "Carnet, espace numérique de santé", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": _(
                "Lecture et recherche pour le titulaire et ses représentants légaux, et pour les professionnels "
                "de santé selon la politique d'accès du titulaire (autorisation, blocage, matrice d'habilitation, "
                "masquage) : un refus est une erreur 403 dont l'OperationOutcome porte le motif (issue.details, "
                "système %(decision_system)s) ; un patient inconnu ou un espace non ouvert, une erreur 404, sauf la "
                "recherche de Patient par INS ou traits d'identité (test d'existence PDSm, PDQm), qui répond par un "
                "Bundle vide. "
                "Chaque consultation et chaque refus sont tracés dans l'historique des accès du titulaire "
                "(une recherche = un accès à l'espace ; une lecture de document = un accès au document). Réponses en "
                "application/fhir+json (_format=json accepté ; XML refusé, 406). Recherche stricte par défaut : "
                "un paramètre inconnu donne une erreur 400, sauf avec l'en-tête Prefer: handling=lenient. "
                "Pagination : _count (défaut %(default)s, maximum %(max)s) et _page."
            ) % {"default": DEFAULT_COUNT, "max": MAX_COUNT, "decision_system": ACCESS_DECISION_SYSTEM},
            "security": {
                "cors": False,
                "service": [{"coding": [{"system": RESTFUL_SECURITY, "code": "OAuth", "display": "OAuth"}],
                             "text": "OAuth2 bearer (RFC 6750)"}],
                "description": _("Authorization: Bearer <jeton> (OAuth2, RFC 6750). Titulaire et représentants : "
                                 "le jeton d'appareil de l'API patient (POST /api/auth/login puis "
                                 "/api/auth/login/otp). Professionnels de santé : un jeton professionnel délivré "
                                 "au logiciel métier, lié au numéro RPPS (démonstration : carnet dev_token --rpps N). "
                                 "SMART on FHIR (autorisation par le titulaire, scopes) n'est pas encore proposé. "
                                 "Jeton absent, expiré ou révoqué : 401 avec WWW-Authenticate."),
            },
            "resource": resources,
            "interaction": [{"code": "transaction", "documentation": _(
                "IHE MHD ITI-65 (profil PDSm) : un Bundle transaction avec un lot de soumission (List), ses "
                "DocumentReference et leurs Binary ; tout ou rien, idempotent sur les identifiants uniques.")}],
        }],
    }
