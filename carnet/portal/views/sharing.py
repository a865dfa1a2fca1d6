"""Confidentialité: the "Paramètres de confidentialité" page (how new documents arrive; which professionals,
care teams and establishments may read the space, until when; blocks; roles such as the médecin traitant) and
what the habilitation matrix lets each profession read ("Qui peut voir quels documents").

Every change is posted (CSRF) to its own URL, acts on the profile shown (a parent manages a child's sharing)
and calls one action of carnet.sharing.actions, which asks the policy and records the access event. The
directory search is posted too and kept in the session: the words typed never go into a URL.

The habilitations page shows the rules, not anyone's data: the same for every holder, read from the matrix the
service runs with (carnet.sharing.habilitation), unknown cells shown as what they are — not verified, hence refused.
"""

import datetime as dt
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from carnet.common.dates import today
from carnet.identity.models import Person
from carnet.interop.terminology import DOCUMENT_TYPES, PatientCategory, category_for_type
from carnet.record import actions as record_actions
from carnet.record.models import Document
from carnet.sharing import actions as sharing_actions
from carnet.sharing import directory_search, emergency, habilitation
from carnet.sharing.actions import SharingError
from carnet.sharing.events import authorise
from carnet.sharing.models import Authorisation, CareRole, CareRoleKind, CareTeam, Establishment, Professional
from carnet.sharing.policy import Action, PolicyDenied

from ..forms_documents import ConfidentialityDefaultsForm
from ..forms_sharing import DirectorySearchForm, EmergencySettingsForm, RoleForm, UntilForm
from ..profiles import current_profile
from .family import deny, me_or_404

DEFAULT_PROFESSION = "10"  # médecin: the row most holders ask about first


def _groups(matrix: habilitation.Matrix, profession_code: str) -> tuple[list[dict], dict[str, int], list]:
    """The JDV_J07 types grouped by patient category, each with its cell; the counts; the sources cited."""
    by_category: dict[PatientCategory, list[dict]] = {category: [] for category in PatientCategory}
    counts = {habilitation.ALLOWED: 0, habilitation.DENIED: 0, habilitation.UNKNOWN: 0}
    cited: dict[str, habilitation.Source] = {}
    for document_type in DOCUMENT_TYPES:
        cell = matrix.cell(profession_code, document_type.code)
        keys = cell.source.split("+") if cell.source else []
        sources = [matrix.sources[key] for key in keys if key in matrix.sources]
        cited.update((s.key, s) for s in sources)
        counts[cell.access] += 1
        by_category[category_for_type(document_type.code)].append({
            "type": document_type, "access": cell.access, "sources": sources,
            "note": matrix.notes.get((profession_code, document_type.code), ""),
        })
    groups = [{"key": category.value, "label": category.label, "rows": rows}
              for category, rows in by_category.items() if rows]
    return groups, counts, sorted(cited.values(), key=lambda s: s.key)


@require_safe
def habilitations(request):
    matrix = habilitation.matrix()
    ordered = sorted(matrix.professions.values(), key=lambda p: p.annex_row)
    choices = [p for p in ordered if p.identified]
    requested = request.GET.get("profession", "").strip()
    selected = matrix.professions.get(requested or DEFAULT_PROFESSION)
    error = ""
    if selected is None or not selected.identified:
        selected = None
        if requested:
            error = _("Choisissez une profession dans la liste.")
    context = {
        "title": _("Qui peut voir quels documents"),
        "choices": choices,
        "unidentified": len(ordered) - len(choices),
        "selected": selected,
        "error": error,
    }
    if selected is not None:
        groups, counts, cited = _groups(matrix, selected.code)
        context.update({"groups": groups, "allowed": counts[habilitation.ALLOWED],
                        "denied": counts[habilitation.DENIED], "unknown": counts[habilitation.UNKNOWN],
                        "cited": cited})
    return render(request, "portal/sharing/habilitations.html", context, status=400 if error else 200)


# --- Paramètres de confidentialité: defaults, who may read the space, blocks and roles ----------------------------

ROLE_LABELS = {
    CareRoleKind.MEDECIN_TRAITANT: _lazy("Médecin traitant"),
    CareRoleKind.SAGE_FEMME_REFERENTE: _lazy("Sage-femme référente"),
    CareRoleKind.PHARMACIEN_CORRESPONDANT: _lazy("Pharmacien correspondant"),
    CareRoleKind.ADMINISTRATEUR_SANTE: _lazy("Administrateur de santé"),
}
ROLE_HELP = {
    CareRoleKind.MEDECIN_TRAITANT: _lazy("Voit tous vos documents, y compris ceux que vous avez masqués."),
    CareRoleKind.SAGE_FEMME_REFERENTE: _lazy("Suit votre grossesse ; une seule à la fois."),
    CareRoleKind.PHARMACIEN_CORRESPONDANT: _lazy("Votre pharmacien habituel ; un seul à la fois."),
    CareRoleKind.ADMINISTRATEUR_SANTE: _lazy("Voit vos documents masqués et peut bloquer des professionnels pour "
                                             "vous."),
}
SEARCH_FIELDS = ("kind", "name", "profession")


def _search_key(profile) -> str:
    return f"directory_search:{profile.uuid}"


def _privacy_url(anchor: str = "") -> str:
    return reverse("portal:privacy") + (f"#{anchor}" if anchor else "")


def _search_results(request, profile) -> tuple[DirectorySearchForm, list, str]:
    """The search form (bound to what the session keeps) and its results: words never travel in a URL."""
    data = request.session.get(_search_key(profile))
    form = DirectorySearchForm(data or None, auto_id="search-%s")
    if not data or not form.is_valid():
        return form, [], ""
    kind, name = form.cleaned_data["kind"], form.cleaned_data["name"]
    try:
        if kind == "care_team":
            results: list[Any] = directory_search.search_care_teams(name)
        elif kind == "establishment":
            results = directory_search.search_establishments(name)
        else:
            results = directory_search.search_directory(name, form.cleaned_data["profession"])
    except SharingError as exc:
        form.add_domain_error(exc)
        return form, [], kind
    return form, results, kind


def _sharing_context(request, profile) -> dict:
    authorisations: list[Any] = list(sharing_actions.current_authorisations(profile))  # rows get page-only fields
    for row in authorisations:
        row.until = sharing_actions.until_of(row)
    professionals = [a for a in authorisations if a.professional_id]
    roles = list(sharing_actions.current_roles(profile))
    roles_by_kind = {kind: [r for r in roles if r.kind == kind] for kind in CareRoleKind}
    for row in professionals:
        row.roles = [ROLE_LABELS[CareRoleKind(r.kind)] for r in roles if r.professional_id == row.professional_id]
    form, results, kind = _search_results(request, profile)
    authorised = {(a.professional_id, a.care_team_id, a.establishment_id) for a in authorisations}
    blocked = {b.professional_id for b in sharing_actions.current_blocks(profile)}
    for row in results:
        key = {"care_team": (None, row.pk, None), "establishment": (None, None, row.pk)}.get(kind, (row.pk, None, None))
        row.already = key in authorised
        row.blocked = kind == "professional" and row.pk in blocked
    return {
        "professionals": professionals,
        "teams": [a for a in authorisations if a.care_team_id],
        "establishments": [a for a in authorisations if a.establishment_id],
        "blocks": list(sharing_actions.current_blocks(profile)),
        "roles": [{"kind": kind, "label": ROLE_LABELS[kind], "help": ROLE_HELP[kind], "rows": roles_by_kind[kind]}
                  for kind in CareRoleKind],
        "role_form": RoleForm(professionals=[a.professional for a in professionals], auto_id="role-%s"),
        "search_form": form, "results": results, "result_kind": kind,
        "searched": bool(request.session.get(_search_key(profile))),
        "min_date": (today() + dt.timedelta(days=1)).isoformat(),
        **_emergency_context(profile),
    }


def _emergency_context(profile) -> dict:
    """The three emergency settings (as chosen, or the defaults) and the latest emergency openings."""
    chosen = emergency.settings_of(profile)
    form = EmergencySettingsForm(initial={name: getattr(chosen, name) for name in EmergencySettingsForm.base_fields},
                                 auto_id="emergency-%s")
    return {"emergency_form": form, "emergency_accesses": list(emergency.recent_accesses(profile)),
            "emergency_hours": settings.CARNET_EMERGENCY_ACCESS_HOURS}


@require_http_methods(["GET", "POST"])
def privacy(request):
    """Paramètres de confidentialité: how new documents arrive and the care history (the form posted here), who
    may read the space (professionals, care teams, establishments), blocks and roles (each posted to its URL)."""
    me, profile = me_or_404(request), current_profile(request)
    try:
        authorise(me, Action.MANAGE_SHARING, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    current = record_actions.settings_of(profile)
    form = ConfidentialityDefaultsForm(request.POST or None, initial={
        "new_documents_masked": current.new_documents_masked, "care_history_masked": current.care_history_masked})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = record_actions.set_confidentiality_defaults(
                me, profile, new_documents_masked=data["new_documents_masked"],
                care_history_masked=data["care_history_masked"], apply_to_existing=data["apply_to_existing"])
        except PolicyDenied as exc:
            return deny(request, exc)
        message = _("Vos choix de confidentialité sont enregistrés.")
        if data["apply_to_existing"]:
            message += " " + _("%(count)s document(s) modifié(s).") % {"count": changed}
        messages.success(request, message)
        return redirect("portal:privacy")
    masked = Document.objects.of(profile).listed().filter(masked_to_professionals=True).count()
    total = Document.objects.of(profile).listed().count()
    return render(request, "portal/sharing/privacy.html", {
        "title": _("Paramètres de confidentialité"), "form": form, "masked": masked, "total": total,
        "profile": profile, "is_me": cast(Person, profile).pk == me.pk, **_sharing_context(request, profile),
    }, status=400 if form.errors else 200)


def _change(request, anchor: str, run, success: str):
    """Run one sharing action for the profile shown; a refusal becomes a message on the page, a policy denial
    the usual 403/404."""
    me, profile = me_or_404(request), current_profile(request)
    try:
        run(me, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    except SharingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect(_privacy_url(anchor))


def _until(request) -> dt.date | None:
    form = UntilForm(request.POST)
    if not form.is_valid():
        raise SharingError(_("Saisissez une date valide, par exemple 31/12/2026."), field="until")
    return form.cleaned_data["until"]


@require_POST
def privacy_search(request):
    """Keep the directory search in the session (its words are never put in a URL) and show the results."""
    me, profile = me_or_404(request), current_profile(request)
    try:
        authorise(me, Action.MANAGE_SHARING, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    key = _search_key(profile)
    if "clear" in request.POST:
        request.session.pop(key, None)
        return redirect(_privacy_url("ajouter"))
    request.session[key] = {name: request.POST.get(name, "")[:200] for name in SEARCH_FIELDS}
    return redirect(_privacy_url("resultats"))


@require_POST
def privacy_authorise_professional(request, professional):
    found = Professional.objects.filter(uuid=professional, active=True).first()
    if found is None:
        raise Http404
    return _change(request, "autorises", lambda me, profile: sharing_actions.authorise_professional(
        me, profile, found, until=_until(request)), _("Le professionnel est autorisé à consulter le dossier."))


@require_POST
def privacy_authorise_team(request, care_team):
    found = CareTeam.objects.filter(uuid=care_team).first()
    if found is None:
        raise Http404
    return _change(request, "equipes", lambda me, profile: sharing_actions.authorise_care_team(
        me, profile, found, until=_until(request)), _("L'équipe de soins est autorisée à consulter le dossier."))


@require_POST
def privacy_authorise_establishment(request, establishment):
    found = Establishment.objects.filter(uuid=establishment).first()
    if found is None:
        raise Http404
    return _change(request, "etablissements", lambda me, profile: sharing_actions.authorise_establishment(
        me, profile, found, until=_until(request)), _("L'établissement est autorisé à consulter le dossier."))


def _authorisation_or_404(request, uuid) -> Authorisation:
    found = Authorisation.objects.filter(person=current_profile(request), uuid=uuid).select_related(
        "professional", "care_team", "establishment").first()
    if found is None:
        raise Http404
    return found


def _anchor(authorisation: Authorisation) -> str:
    return "autorises" if authorisation.professional_id else "equipes" if authorisation.care_team_id else \
        "etablissements"


@require_POST
def privacy_expiry(request, authorisation):
    found = _authorisation_or_404(request, authorisation)
    return _change(request, _anchor(found), lambda me, profile: sharing_actions.set_expiry(
        me, profile, found, _until(request)), _("La date de fin de l'autorisation est enregistrée."))


@require_POST
def privacy_revoke(request, authorisation):
    found = _authorisation_or_404(request, authorisation)
    return _change(request, _anchor(found), lambda me, profile: sharing_actions.revoke(me, profile, found),
                   _("L'autorisation est retirée."))


def _professional_or_404(uuid) -> Professional:
    found = Professional.objects.filter(uuid=uuid).first()
    if found is None:
        raise Http404
    return found


@require_POST
def privacy_block(request, professional):
    found = _professional_or_404(professional)
    return _change(request, "bloques", lambda me, profile: sharing_actions.block(me, profile, found),
                   _("Le professionnel est bloqué : il ne peut plus consulter le dossier."))


@require_POST
def privacy_unblock(request, professional):
    found = _professional_or_404(professional)
    return _change(request, "bloques", lambda me, profile: sharing_actions.unblock(me, profile, found),
                   _("Le professionnel est débloqué. Autorisez-le de nouveau s'il doit consulter le dossier."))


@require_POST
def privacy_assign_role(request):
    def run(me, profile):
        professionals = [cast(Professional, a.professional) for a in sharing_actions.current_authorisations(profile)
                         if a.professional_id]
        form = RoleForm(request.POST, professionals=professionals)
        if not form.is_valid():
            raise SharingError(_("Choisissez un rôle et un professionnel autorisé."))
        chosen = next(p for p in professionals if str(p.uuid) == form.cleaned_data["professional"])
        sharing_actions.assign_role(me, profile, chosen, form.cleaned_data["kind"])

    return _change(request, "roles", run, _("Le rôle est attribué."))


@require_POST
def privacy_end_role(request, role):
    found = CareRole.objects.filter(person=current_profile(request), uuid=role).select_related(
        "professional").first()
    if found is None:
        raise Http404
    return _change(request, "roles", lambda me, profile: sharing_actions.end_role(me, profile, found),
                   _("Le rôle a pris fin."))


@require_POST
def privacy_emergency(request):
    """Accès en cas d'urgence: the three independent settings (SAMU, other professionals, masked documents)."""
    form = EmergencySettingsForm(request.POST)
    form.is_valid()  # three optional checkboxes: always valid, unchecked ones absent from the post

    def run(me, profile):
        emergency.set_emergency_settings(me, profile, samu_allowed=form.cleaned_data["samu_allowed"],
                                         break_glass_allowed=form.cleaned_data["break_glass_allowed"],
                                         masked_visible=form.cleaned_data["masked_visible"])

    return _change(request, "urgence", run, _("Vos choix pour l'accès en cas d'urgence sont enregistrés."))
