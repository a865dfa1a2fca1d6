"""Extraire mes données: ask for an export (password again), see pending, ready and expired ones, download.

The rules are the export domain's (carnet/export/actions.py) and the policy's: a caregiver shown the helped
person's profile is refused (recorded); a representative shown a child's profile exports that child's space.
"""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from dsfr.forms import DsfrBaseForm

from carnet.export import actions
from carnet.export.actions import ExportError
from carnet.identity.actions.family import represented_profiles
from carnet.sharing.events import authorise
from carnet.sharing.policy import Action, PolicyDenied, decide

from ..profiles import current_profile
from .family import deny, me_or_404


class ExportForm(DsfrBaseForm):
    password = forms.CharField(
        label=_("Mot de passe"), strip=False,
        help_text=_("Pour votre sécurité, confirmez votre identité avec le mot de passe de votre compte."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    include_represented = forms.BooleanField(
        label=_("Inclure les espaces santé des personnes que je représente"), required=False,
    )


def _allowed_profile(request):
    """(me, profile) when the policy lets me export the profile shown; a denial is recorded and raised."""
    me = me_or_404(request)
    profile = current_profile(request)
    if not decide(me, Action.EXPORT_SPACE, profile).allowed:
        authorise(me, Action.EXPORT_SPACE, profile)  # records the denial, raises PolicyDenied
    return me, profile


@require_http_methods(["GET", "POST"])
def export(request):
    try:
        me, profile = _allowed_profile(request)
    except PolicyDenied as exc:
        return deny(request, exc)
    represented = represented_profiles(me) if profile.pk == me.pk else []
    form, status = ExportForm(request.POST or None), 200
    if not represented:
        del form.fields["include_represented"]
    if request.method == "POST" and form.is_valid():
        try:
            actions.request_export(request.user, profile, password=form.cleaned_data["password"],
                                   include_represented=bool(form.cleaned_data.get("include_represented")))
        except PolicyDenied as exc:
            return deny(request, exc)
        except ExportError as exc:
            form.add_error("password" if exc.field == "password" else None, exc.message)
            status = 429 if exc.code == "locked" else 400
        else:
            messages.success(request, _("Votre demande est enregistrée. Vous recevrez un message dès que l'export "
                                        "sera prêt ; il restera téléchargeable quelques jours."))
            return redirect("portal:export")
    elif request.method == "POST":
        status = 400
    return render(request, "portal/export.html", {
        "title": _("Extraire mes données"), "form": form, "profile": profile, "is_me": profile.pk == me.pk,
        "represented": represented, "exports": list(actions.exports_of(me)[:20]),
    }, status=status)


@require_safe
def export_download(request, export):
    me = me_or_404(request)
    try:
        found, handle = actions.open_download(me, export)
    except PolicyDenied as exc:
        return deny(request, exc)
    except ExportError as exc:
        if exc.code == "not_found":
            raise Http404(exc.message) from None
        return render(request, "portal/family/denied.html", {"title": _("Export expiré"), "message": exc.message},
                      status=410)
    name = f"carnet-export-{found.ready_at.date().isoformat()}.zip"  # type: ignore[union-attr]  # downloadable: ready
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response
