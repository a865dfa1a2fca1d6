"""The professionals' portal: sign-in (OpenID Connect, or the demo's built-in sign-in), finding a patient by INS
and identity traits, the patient's page (what the policy allows, and why not), reading a document, declaring the
patient's consent, opening the space in an emergency (bris de glace, SAMU régulateur) and ending it early,
releasing a held result to the patient, the administrateur de santé's blocks, and filing a document for the
patient.

Thin views: `services` (the professional's session, patient handles, the INS search), `oidc` (the sign-in
protocol), `carnet.sharing.consent`, `carnet.sharing.emergency`, `carnet.sharing.actions` and
`carnet.record.actions` (writes) do the work; every access to a person's data asks `carnet.sharing.policy.decide`
through `carnet.sharing.events.authorise`, which records the access event. Patients are addressed by a per-session
opaque handle: no INS, no lasting id in any URL; an emergency's reason is posted, never in a URL or a log.
"""

import datetime as dt
import logging
from collections import Counter
from functools import wraps
from typing import cast

from csp.constants import SELF
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from carnet.identity import throttle
from carnet.identity.errors import LOCKED
from carnet.interop import cda, formats, terminology
from carnet.portal.middleware import login_exempt
from carnet.portal.views.documents import serve_document_file, viewer_context
from carnet.record import actions as record_actions
from carnet.record import cda_identity
from carnet.record.enums import AuthorKind, DocumentFormat, DocumentSource, DocumentStatus
from carnet.record.errors import RecordError
from carnet.record.models import Document
from carnet.record.visibility import documents_for_professional
from carnet.sharing import actions as sharing_actions
from carnet.sharing import consent, emergency
from carnet.sharing.actions import SharingError
from carnet.sharing.events import authorise
from carnet.sharing.models import ActivityPlace, Authorisation, CareRoleKind, CareTeamMember, Professional
from carnet.sharing.policy import Action, PolicyDenied, decide, emergency_in_force, roles_of
from carnet.vault import services as vault

from . import oidc, services
from .forms import BlockOnBehalfForm, DemoSignInForm, EmergencyAccessForm, PatientSearchForm, ProUploadForm

logger = logging.getLogger(__name__)
# Denials that must not reveal that a document exists (a masked document does not appear at all).
HIDDEN_DOCUMENT_REASONS = {"masked", "no_relationship"}
INLINE_TYPES = ("application/pdf", "image/jpeg", "image/png", "text/plain")


def pro_view(view):
    """A page of the signed-in professional: their session (not a holder's login), never cached."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        professional = services.current_professional(request)
        if professional is None:
            return redirect("pro:sign_in")
        request.professional = professional
        response = view(request, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response

    return login_exempt(wrapped)


def public_view(view):
    """A sign-in page: no professional yet, no holder's login needed."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    return login_exempt(wrapped)


def _denied(request, exc: PolicyDenied, *, person=None, handle: str = ""):
    return render(request, "pro/denied.html", {"title": _("Accès refusé"), "message": exc.message,
                                               "person": person, "handle": handle,
                                               **_emergency_context(request, person)}, status=403)


def _emergency_context(request, person) -> dict:
    """The professional's emergency opening of this space in force, if any: the DMP requires the mode to be shown
    for the whole access (EX_0.3-1050), so every page about the patient carries it."""
    if person is None:
        return {}
    opening = emergency_in_force(person, request.professional)
    if opening is None:
        return {"emergency": None}
    until = timezone.localtime(opening.expires_at)
    return {"emergency": opening, "emergency_until": until,
            "emergency_same_day": until.date() == timezone.localdate()}


def _refused(request, message: str, *, status: int):
    return render(request, "pro/refused.html", {"title": _("Connexion refusée"), "message": message},
                  status=status)


# --- sign-in ------------------------------------------------------------------------------------------------------


@public_view
@require_safe
def sign_in(request):
    if services.current_professional(request) is not None:
        return redirect("pro:home")
    return render(request, "pro/sign_in.html", {
        "title": _("Connexion des professionnels de santé"), "oidc": oidc.configured(),
        "provider_name": oidc.provider_name(), "demo": settings.CARNET_DEMO,
    })


@public_view
@require_safe
def oidc_start(request):
    if not oidc.configured():
        raise Http404
    try:
        url = oidc.begin(request.session)
    except oidc.OidcError as exc:
        logger.warning("pro sign-in: provider unavailable (%s)", exc.code)
        return _refused(request, _("Le service d'identification des professionnels ne répond pas. Réessayez dans "
                                   "quelques instants."), status=502)
    return redirect(url)


REFUSALS = {
    "unknown": gettext_lazy("Votre identifiant national ne figure pas dans l'annuaire des professionnels de santé "
                            "de Carnet. Vérifiez votre inscription au RPPS."),
    "inactive": gettext_lazy("Votre inscription dans l'annuaire des professionnels de santé n'est plus active : "
                             "vous ne pouvez pas vous connecter."),
}


@public_view
@require_safe
def oidc_callback(request):
    if not oidc.configured():
        raise Http404
    try:
        identity = oidc.complete(request.session, request.GET)
        professional = services.professional_for_national_id(identity.national_id)
    except oidc.OidcError as exc:
        logger.warning("pro sign-in: OpenID Connect check failed (%s)", exc.code)
        if exc.code == "cancelled":
            return _refused(request, _("La connexion a été annulée."), status=400)
        return _refused(request, _("Votre connexion n'a pas pu être vérifiée. Recommencez depuis la page de "
                                   "connexion."), status=400)
    except services.SignInRefused as exc:
        logger.info("pro sign-in refused (%s)", exc.code)
        return _refused(request, str(REFUSALS[exc.code]), status=403)
    services.sign_in(request, professional, method="oidc")
    return redirect("pro:home")


@public_view
@require_http_methods(["GET", "POST"])
def demo_sign_in(request):
    """Demo mode only (404 otherwise): sign in as one of the directory's professionals, offline."""
    if not settings.CARNET_DEMO:
        raise Http404
    professionals = list(Professional.objects.filter(active=True).order_by("family_name", "given_names")[:200])
    form = DemoSignInForm(request.POST or None, professionals=professionals)
    if request.method == "POST" and form.is_valid():
        chosen = next(p for p in professionals if str(p.uuid) == form.cleaned_data["professional"])
        services.sign_in(request, chosen, method="demo")
        return redirect("pro:home")
    return render(request, "pro/demo_sign_in.html", {"title": _("Connexion de démonstration"), "form": form},
                  status=400 if form.errors else 200)


@public_view
@require_POST
def sign_out(request):
    services.sign_out(request)
    messages.success(request, _("Vous êtes déconnecté du portail professionnel."))
    return redirect("pro:sign_in")


# --- finding a patient ------------------------------------------------------------------------------------------


def _home(request, form, *, status=200, not_found=False):
    return render(request, "pro/home.html", {"title": _("Rechercher un patient"), "form": form,
                                             "not_found": not_found}, status=status)


@pro_view
@require_safe
def home(request):
    return _home(request, PatientSearchForm())


@pro_view
@require_POST
def search(request):
    """INS and traits are posted and never put in a URL; the patient found is kept in the session behind a handle."""
    if not request.professional.active:  # struck off since signing in: no identity lookups any more
        return _refused(request, str(REFUSALS["inactive"]), status=403)
    form = PatientSearchForm(request.POST)
    if not form.is_valid():
        return _home(request, form, status=400)
    data = form.cleaned_data
    try:
        person = services.find_patient(request.professional, ins=data["ins"], family_name=data["family_name"],
                                       given_name=data["given_name"], birth_date=data["birth_date"])
    except throttle.Locked:
        form.add_error(None, str(LOCKED))
        return _home(request, form, status=429)
    if person is None:
        return _home(request, form, not_found=True)
    return redirect("pro:patient", handle=services.remember_patient(request.session, person))


def _patient_or_404(request, handle: str):
    person = services.patient_for(request.session, handle)
    if person is None:
        raise Http404
    return person


# --- the patient's page -----------------------------------------------------------------------------------------


def _authorisation_context(person, professional) -> dict:
    """Until when the holder's authorisations in force let this professional read (theirs, their care teams',
    their activity places'): « sans limite de durée » when one has no end. Shown once the policy allowed reading."""
    now = timezone.now()
    rows = Authorisation.objects.filter(person=person, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)).filter(
        Q(professional=professional)
        | Q(care_team__in=CareTeamMember.objects.filter(professional=professional).values("team_id"))
        | Q(establishment__in=ActivityPlace.objects.filter(professional=professional).values("establishment_id")))
    ends = list(rows.values_list("expires_at", flat=True))
    if not ends:
        return {"authorised": False}
    return {"authorised": True,
            "authorised_until": None if None in ends else timezone.localtime(max(cast(list[dt.datetime], ends)))}


def _type_label(code: str) -> str:
    known = terminology.document_type(code)
    return str(known.label) if known else code


@pro_view
@require_safe
def patient(request, handle):
    professional = request.professional
    person = _patient_or_404(request, handle)
    denied = None
    try:
        authorise(professional, Action.READ_RECORD, person)
    except PolicyDenied as exc:
        denied = exc
    readable = documents_for_professional(professional, person).filter(status=DocumentStatus.CURRENT)
    documents = list(readable.order_by("-created_at", "-id"))
    for document in documents:
        document.type_label = _type_label(document.type_code)
        document.held = services.held_from_holder(document)  # "pas encore visible par le patient"
    denied_types: list[tuple[str, int]] = []
    if denied is None:
        # Listed by type with the reason, no title: what the habilitation matrix keeps from this profession.
        # Masked documents are not listed at all (their existence is the holder's to keep).
        others = (Document.objects.of(person).listed().exclude(pk__in=[d.pk for d in documents])
                  .filter(masked_to_professionals=False).select_related("person"))
        counts: Counter[str] = Counter()
        for document in others:
            decision = decide(professional, Action.READ_DOCUMENT, document)
            if not decision.allowed and decision.reason == "habilitation":
                counts[_type_label(document.type_code)] += 1
        denied_types = sorted(counts.items())
    unauthorised = denied is not None and denied.decision.reason == "no_authorisation"
    return render(request, "pro/patient.html", {
        "title": _("Dossier du patient"), "person": person, "handle": handle, "denied": denied,
        "offer_consent": unauthorised,
        "emergency_form": _emergency_form(professional) if unauthorised else None,
        "emergency_hours": settings.CARNET_EMERGENCY_ACCESS_HOURS,
        "can_write": decide(professional, Action.WRITE_RECORD, person).allowed,
        "documents": documents, "denied_types": denied_types,
        # The roles the holder gave this professional: what they change is said where the policy is applied.
        "roles": [str(CareRoleKind(kind).label) for kind in sorted(roles_of(person, professional))
                  if kind in CareRoleKind.values],
        **_emergency_context(request, person), **_blocks_context(request, person),
        **(_authorisation_context(person, professional) if denied is None else {}),
    }, status=403 if denied is not None else 200)


@pro_view
@require_POST
def declare_consent(request, handle):
    """« Le patient m'a donné son accord »: the professional declares the holder's consent at first access."""
    person = _patient_or_404(request, handle)
    try:
        consent.declare_consent(request.professional, person)
    except PolicyDenied as exc:
        return _denied(request, exc, person=person, handle=handle)
    except SharingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("L'accord du patient est enregistré. Le patient en est informé et peut le "
                                    "retirer à tout moment."))
    return redirect("pro:patient", handle=handle)


# --- emergency access (bris de glace, SAMU régulateur) ------------------------------------------------------------


def _emergency_form(professional, data=None) -> EmergencyAccessForm:
    return EmergencyAccessForm(data, regulator=emergency.is_samu_regulator(professional))


@pro_view
@require_POST
@sensitive_post_parameters("reason")
def emergency_access(request, handle):
    """« Accès en urgence »: open the space without authorisation for a stated reason (carnet/sharing/emergency.py
    decides, records, notifies). A refusal is recorded there and shown with its reason; the reason typed is never
    echoed in a URL, a log or the refusal page."""
    person = _patient_or_404(request, handle)
    form = _emergency_form(request.professional, request.POST)
    if form.is_valid():
        try:
            emergency.open_emergency_access(request.professional, person, kind=form.cleaned_data["kind"],
                                            reason=form.cleaned_data["reason"])
        except PolicyDenied as exc:
            return render(request, "pro/emergency.html", {
                "title": _("Accès en urgence refusé"), "person": person, "handle": handle, "refusal": exc.message,
                **_emergency_context(request, person)}, status=403)
        except emergency.EmergencyError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("L'accès en urgence est ouvert. Il est tracé ; le patient et son médecin "
                                        "traitant en sont informés."))
            return redirect("pro:patient", handle=handle)
    return render(request, "pro/emergency.html", {
        "title": _("Accès en urgence"), "person": person, "handle": handle, "emergency_form": form,
        "emergency_hours": settings.CARNET_EMERGENCY_ACCESS_HOURS, **_emergency_context(request, person)},
        status=400)


@pro_view
@require_POST
def end_emergency_access(request, handle):
    """« Mettre fin à l'accès d'urgence »: the professional closes their own emergency opening before its term
    (carnet/sharing/emergency.py records the end; the holder sees it in the history)."""
    person = _patient_or_404(request, handle)
    try:
        emergency.end_emergency_access(request.professional, person)
    except emergency.EmergencyError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, _("L'accès en urgence est terminé. Le patient le voit dans l'historique des "
                                    "accès."))
    return redirect("pro:patient", handle=handle)


# --- the administrateur de santé's blocks -------------------------------------------------------------------------


def _blocks_context(request, person, form: BlockOnBehalfForm | None = None) -> dict:
    """What the holder's administrateur de santé sees and does for them: blocks in force, a form to block. Nothing
    for anyone else (the policy's BLOCK_ON_BEHALF, asked without recording: nothing is read or done yet)."""
    if not decide(request.professional, Action.BLOCK_ON_BEHALF, person).allowed:
        return {"administrator": False}
    return {"administrator": True, "blocks": list(sharing_actions.current_blocks(person)),
            "block_form": form or BlockOnBehalfForm()}


def _blocks_page(request, person, handle: str, form: BlockOnBehalfForm, *, error: str = "", status: int = 400):
    return render(request, "pro/blocks.html", {
        "title": _("Professionnels bloqués"), "person": person, "handle": handle, "error": error,
        **_emergency_context(request, person), **_blocks_context(request, person, form)}, status=status)


def _patient_blocks_url(handle: str) -> str:
    return reverse("pro:patient", kwargs={"handle": handle}) + "#bloques"


@pro_view
@require_POST
def block_professional(request, handle):
    """The administrateur de santé blocks a professional, found by RPPS, for the holder (sharing.actions.block)."""
    person = _patient_or_404(request, handle)
    try:
        sharing_actions.check_block(request.professional, person)  # the policy first; a denial is recorded
    except PolicyDenied as exc:
        return _denied(request, exc, person=person, handle=handle)
    form = BlockOnBehalfForm(request.POST)
    if form.is_valid():
        target = Professional.objects.filter(rpps=form.cleaned_data["rpps"]).first()
        if target is None:
            form.add_error("rpps", _("Aucun professionnel de l'annuaire n'a ce numéro RPPS."))
        else:
            try:
                sharing_actions.block(request.professional, person, target)
            except PolicyDenied as exc:
                return _denied(request, exc, person=person, handle=handle)
            except SharingError as exc:
                form.add_error("rpps", exc.message)
            else:
                messages.success(request, _("%(name)s est bloqué : il ne peut plus consulter l'espace du patient, "
                                            "sauf les documents dont il est l'auteur. Le patient en est informé.")
                                 % {"name": target.full_name})
                return redirect(_patient_blocks_url(handle))
    return _blocks_page(request, person, handle, form)


@pro_view
@require_POST
def unblock_professional(request, handle, professional):
    """The administrateur de santé lifts a block an administrateur de santé made (sharing.actions.unblock)."""
    person = _patient_or_404(request, handle)
    try:
        sharing_actions.check_block(request.professional, person)
    except PolicyDenied as exc:
        return _denied(request, exc, person=person, handle=handle)
    target = Professional.objects.filter(uuid=professional).first()
    if target is None:
        return _blocks_page(request, person, handle, BlockOnBehalfForm(),
                            error=_("Ce professionnel n'existe pas dans l'annuaire."))
    try:
        sharing_actions.unblock(request.professional, person, target)
    except PolicyDenied as exc:
        return _denied(request, exc, person=person, handle=handle)
    except SharingError as exc:
        return _blocks_page(request, person, handle, BlockOnBehalfForm(), error=exc.message)
    messages.success(request, _("%(name)s est débloqué. Il ne retrouve l'accès que si le patient l'autorise de "
                                "nouveau.") % {"name": target.full_name})
    return redirect(_patient_blocks_url(handle))


# --- documents --------------------------------------------------------------------------------------------------


def _document(request, handle, document_uuid):
    """The document if the policy lets this professional read it (the read is recorded), else a response."""
    person = _patient_or_404(request, handle)
    doc = Document.objects.of(person).filter(uuid=document_uuid).select_related("person").first()
    if doc is None:
        raise Http404
    try:
        authorise(request.professional, Action.READ_DOCUMENT, doc)
    except PolicyDenied as exc:
        if exc.decision.reason in HIDDEN_DOCUMENT_REASONS:
            raise Http404 from None
        return person, None, _denied(request, exc, person=person, handle=handle)
    return person, doc, None


@pro_view
@require_safe
@csp_update({"frame-src": [SELF]})  # type: ignore[arg-type]
def document(request, handle, document):
    person, doc, refused = _document(request, handle, document)
    if refused is not None:
        return refused
    try:
        viewer = viewer_context(doc)
    except vault.TamperedBlob:
        return render(request, "pro/integrity.html", {"title": _("Document illisible")}, status=500)
    return render(request, "pro/document.html", {
        "title": doc.title or _("Document"), "doc": doc, "person": person, "handle": handle, **viewer,
        "type_label": _type_label(doc.type_code), "held": services.held_from_holder(doc),
        "may_release": decide(request.professional, Action.RELEASE_TO_HOLDER, doc).allowed,
        **_emergency_context(request, person),
        "content_url": reverse("pro:document_content", kwargs={"handle": handle, "document": doc.uuid}),
        "embedded_url": reverse("pro:document_embedded", kwargs={"handle": handle, "document": doc.uuid}),
        "preview_url": reverse("pro:document_preview", kwargs={"handle": handle, "document": doc.uuid}),
        "download_url": reverse("pro:document_download", kwargs={"handle": handle, "document": doc.uuid}),
    })


@pro_view
@require_POST
def release_document(request, handle, document):
    """« Rendre visible au patient »: the author shows the holder a result held for an announcement consultation
    (record.actions.release_to_holder asks the policy: anyone else is refused, and the refusal recorded)."""
    person = _patient_or_404(request, handle)
    doc = Document.objects.of(person).filter(uuid=document).select_related("person").first()
    if doc is None:
        raise Http404
    try:
        record_actions.release_to_holder(request.professional, person, doc)
    except PolicyDenied as exc:
        if exc.decision.reason in HIDDEN_DOCUMENT_REASONS:
            raise Http404 from None
        return _denied(request, exc, person=person, handle=handle)
    except RecordError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, _("Le document est maintenant visible par le patient. Il est informé qu'un "
                                    "nouveau document est disponible, sans son contenu."))
    return redirect("pro:document", handle=handle, document=doc.uuid)


def _serve(request, handle, document, *, inline: bool, which: str = "content"):
    _person, doc, refused = _document(request, handle, document)
    if refused is not None:
        return refused
    if which == "content" and inline and doc.mime_type not in INLINE_TYPES:
        inline = False  # XML, DICOM, zip: download only
    try:
        return serve_document_file(request, doc, inline=inline, which=which)
    except vault.TamperedBlob:
        return render(request, "pro/integrity.html", {"title": _("Document illisible")}, status=500)


@pro_view
@require_safe
@xframe_options_sameorigin
def document_content(request, handle, document):
    return _serve(request, handle, document, inline=True)


@pro_view
@require_safe
@xframe_options_sameorigin
def document_preview(request, handle, document):
    return _serve(request, handle, document, inline=True, which="preview")


@pro_view
@require_safe
@xframe_options_sameorigin
def document_embedded(request, handle, document):
    return _serve(request, handle, document, inline=True, which="embedded")


@pro_view
@require_safe
def document_download(request, handle, document):
    return _serve(request, handle, document, inline=False)


def _upload_author(professional, upload) -> record_actions.Author | None:
    """Who wrote the document: a CDA's header when it names an author with an RPPS (None: `add_document` reads it,
    as the FHIR face indexes the header), else the professional filing it."""
    head = upload.read(formats.SNIFF_BYTES)
    upload.seek(0)
    if formats.sniff(head) == DocumentFormat.CDA:
        try:
            source = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload.read()
            header = cda.read_header(source)
        except (formats.UnsupportedFormat, ValueError, OSError):
            header = None  # add_document refuses it with its own message
        finally:
            upload.seek(0)
        if header is not None and header.authors and header.authors[0].rpps:
            return None
    return record_actions.Author(AuthorKind.PROFESSIONAL, professional.full_name, professional.national_id)


@pro_view
@require_http_methods(["GET", "POST"])
def upload(request, handle):
    """File a document for the patient: writing needs no authorisation to read (the policy's WRITE_RECORD)."""
    professional = request.professional
    person = _patient_or_404(request, handle)
    try:
        record_actions.check(professional, Action.WRITE_RECORD, person)  # a denial is recorded at once
    except PolicyDenied as exc:
        return _denied(request, exc, person=person, handle=handle)
    form = ProUploadForm(request.POST or None, request.FILES or None, minor=person.is_minor())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        act_date = (timezone.make_aware(dt.datetime.combine(data["act_date"], dt.time(12)))
                    if data["act_date"] else None)
        try:
            added = cda_identity.add_checked_document(
                professional, person, content=data["file"], filename=data["file"].name, title=data["title"],
                type_code=data["type_code"], act_date=act_date, source=DocumentSource.PROFESSIONAL,
                author=_upload_author(professional, data["file"]),
                invisible_to_holder=data["invisible_to_holder"],
                hidden_from_representatives=bool(data.get("hidden_from_representatives")),
                # A held result is not announced: the holder hears of it on release, or from the reminder job.
                notify=not data["invisible_to_holder"],
            )
        except PolicyDenied as exc:
            return _denied(request, exc, person=person, handle=handle)
        except RecordError as exc:
            form.add_domain_error(exc, {"type_code": "type_code", "file": "file"})
        else:
            if added.invisible_to_holder and added.invisible_to_holder_until:
                messages.success(request, _(
                    "Le document a été déposé dans l'espace du patient. Il lui reste invisible jusqu'à ce que vous "
                    "le rendiez visible, au plus tard le %(date)s.") % {
                        "date": date_format(added.invisible_to_holder_until, "DATE_FORMAT")})
            else:
                messages.success(request, _("Le document a été déposé dans l'espace du patient."))
            return redirect("pro:patient", handle=handle)
    return render(request, "pro/upload.html", {"title": _("Déposer un document"), "form": form, "person": person,
                                               "handle": handle, **_emergency_context(request, person)},
                  status=400 if form.errors else 200)
