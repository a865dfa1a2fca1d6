"""Profil médical: the overview, one page per section (add, edit, remove with confirmation,
"je n'en ai pas"), measures with their chart and target, children's growth curves, "Mon histoire
de santé" and the PDF synthesis. Every page acts on the profile shown (own or represented) through
the medical actions, which ask the policy and trace what others do.
"""

from typing import cast

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from carnet.medical import charts, growth, medicines
from carnet.medical.actions import care as care_actions
from carnet.medical.actions import entries, measures
from carnet.medical.actions import synthesis as synthesis_actions
from carnet.medical.enums import PROFESSIONAL_VISIBLE_SECTIONS, UNCONCERNED_SECTIONS, CareCategory, Section
from carnet.medical.errors import MedicalError
from carnet.medical.measures import MEASURES
from carnet.medical.sections import observations
from carnet.record import actions as record_actions
from carnet.sharing.events import require
from carnet.sharing.policy import DENIAL_MESSAGES, Action, PolicyDenied, decide

from ..forms_medical import FORMS, MeasureForm, MedicineSearchForm, SynthesisForm, TargetForm
from ..profiles import current_profile
from .family import deny, me_or_404

# French URL slugs of the sections.
SLUGS = {
    Section.DISEASES: "maladies", Section.ALLERGIES: "allergies", Section.HOSPITALISATIONS: "hospitalisations",
    Section.FAMILY_HISTORY: "antecedents-familiaux", Section.TREATMENTS: "traitements",
    Section.VACCINATIONS: "vaccinations", Section.DISABILITIES: "handicaps", Section.LIFESTYLE: "habitudes-de-vie",
    Section.BLOOD_GROUP: "groupe-sanguin", Section.ENTOURAGE: "entourage",
}
BY_SLUG = {slug: key for key, slug in SLUGS.items()}
INTROS = {
    Section.DISEASES: _("Vos maladies et sujets de santé, en cours ou passés."),
    Section.TREATMENTS: _("Les médicaments que vous prenez ou avez pris. Cherchez un médicament par son nom ou par "
                          "le code CIP imprimé sur la boîte, ou saisissez son nom librement."),
    Section.VACCINATIONS: _("Votre carnet de vaccination. Les professionnels de santé que vous autorisez peuvent "
                            "le consulter."),
    Section.ENTOURAGE: _("Les personnes à prévenir, votre personne de confiance et vos proches aidants. Les "
                         "professionnels de santé que vous autorisez peuvent consulter cette rubrique."),
}


def _actors(request):
    return me_or_404(request), current_profile(request)


def _section(slug: str) -> str:
    if slug not in BY_SLUG:
        raise Http404
    return BY_SLUG[slug]


def _section_url(section: str):
    return redirect("portal:medical_section", section=SLUGS[cast(Section, section)])  # a str enum: str keys match


def _wishes_kind(kind: str) -> bool:
    """Entourage et volontés (trusted person, people to notify, organ donation): the policy's WRITE_WISHES."""
    return kind in (Section.ENTOURAGE, "organ_donation")


def _wishes_lock(me, profile) -> str:
    """Why the signed-in person may not change this profile's entourage et volontés (a caregiver: the policy's
    `caregiver_locked_section`), or "" when they may. Asked without recording: it only shapes the page; opening
    the form or posting it asks `require`, which records a denial."""
    decision = decide(me, Action.WRITE_WISHES, profile)
    return "" if decision.allowed else str(DENIAL_MESSAGES.get(decision.reason, DENIAL_MESSAGES["no_relationship"]))


def _form_for(kind, data=None, *, initial=None, domain=None):
    form_class = FORMS[kind]
    extra = {"domain": domain} if kind == Section.LIFESTYLE else {}
    return form_class(data, initial=initial, **extra)


@require_safe
def overview(request):
    me, profile = _actors(request)
    try:
        latest = measures.latest_measures(me, profile)
        blood = entries.single_entry(me, profile, Section.BLOOD_GROUP)
        counts = {s: len(entries.list_entries(me, profile, s)) for s in SLUGS if s != Section.BLOOD_GROUP}
    except PolicyDenied as exc:
        return deny(request, exc)
    sections = [{"key": s, "slug": SLUGS[s], "label": Section(s).label, "count": counts.get(s),
                 "shared": s in PROFESSIONAL_VISIBLE_SECTIONS} for s in SLUGS if s != Section.BLOOD_GROUP]
    tiles = [{"measure": MEASURES[k], "point": p} for k, p in latest.items() if k in MEASURES]
    return render(request, "portal/medical/overview.html", {
        "title": _("Profil médical"), "profile": profile, "is_me": profile.pk == me.pk, "sections": sections,
        "tiles": tiles, "blood": blood,
    })


@require_http_methods(["GET", "POST"])
def section(request, section):
    me, profile = _actors(request)
    key = _section(section)
    try:
        rows = entries.list_entries(me, profile, key)
        unconcerned = entries.unconcerned_declaration(me, profile, key) if key in UNCONCERNED_SECTIONS else None
        organ = entries.single_entry(me, profile, "organ_donation") if key == Section.ENTOURAGE else None
    except PolicyDenied as exc:
        return deny(request, exc)
    context = {
        "title": Section(key).label, "section": key, "slug": section, "rows": rows,
        "intro": INTROS.get(cast(Section, key), ""),
        "can_declare_unconcerned": key in UNCONCERNED_SECTIONS and not rows, "unconcerned": unconcerned,
        "shared": key in PROFESSIONAL_VISIBLE_SECTIONS, "organ": organ, "profile": profile,
        "single": key == Section.BLOOD_GROUP, "is_minor": profile.is_minor(),
        "locked": _wishes_lock(me, profile) if key == Section.ENTOURAGE else "",
    }
    if key == Section.LIFESTYLE:
        context["domains"] = observations.LIFESTYLE_DOMAINS
    if key == Section.TREATMENTS:
        # Posted, not in the query string: the name of a medicine one looks for is health content.
        search = MedicineSearchForm(request.POST or None)
        context["search"] = search
        if search.is_valid() and search.cleaned_data["q"]:
            context["found"] = medicines.find_medicine(search.cleaned_data["q"])
    return render(request, "portal/medical/section.html", context)


@require_http_methods(["GET", "POST"])
def add(request, section):
    key = _section(section)
    initial = {}
    domain = request.GET.get("theme") or request.POST.get("domain") or "food"
    if key == Section.LIFESTYLE and domain not in observations.LIFESTYLE:
        raise Http404
    if key == Section.TREATMENTS and request.POST.get("prefill_cip", "").isdigit():
        # "Ajouter" from the medicine search: a POST, so the medicine's code never sits in a URL.
        initial["code"] = request.POST["prefill_cip"]
        return _edit(request, key, None, initial=initial, domain=domain, bound=False)
    return _edit(request, key, None, initial=initial, domain=domain)


@require_http_methods(["GET", "POST"])
def organ_donation(request):
    me, profile = _actors(request)
    try:
        current = entries.single_entry(me, profile, "organ_donation")
    except PolicyDenied as exc:
        return deny(request, exc)
    return _edit(request, "organ_donation", current)


@require_http_methods(["GET", "POST"])
def edit(request, entry):
    me, profile = _actors(request)
    try:
        shown = entries.get_entry(me, profile, entry)
    except PolicyDenied as exc:
        return deny(request, exc)
    except MedicalError:
        raise Http404 from None
    if shown.kind in ("unconcerned", Section.MEASURES) or shown.entry.derived_from_id:
        raise Http404
    return _edit(request, shown.kind, shown)


def _edit(request, kind, shown, *, initial=None, domain=None, bound=True):
    me, profile = _actors(request)
    if _wishes_kind(kind):
        # The same answer to the page as to its form: a caregiver gets the refusal (recorded) before any form.
        try:
            require(me, Action.WRITE_WISHES, profile)
        except PolicyDenied as exc:
            return deny(request, exc)
    if shown is not None:
        initial = shown.initial
        domain = initial.get("domain", domain)
    form = _form_for(kind, (request.POST or None) if bound else None, initial=initial, domain=domain)
    section_key = Section.ENTOURAGE if kind == "organ_donation" else kind
    if request.method == "POST" and bound and form.is_valid():
        try:
            if shown is None or kind == "organ_donation":
                entries.add_entry(me, profile, kind, form.data_for_action())
            else:
                entries.update_entry(me, profile, shown.uuid, form.data_for_action())
        except PolicyDenied as exc:
            return deny(request, exc)
        except MedicalError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("C'est enregistré."))
            return _section_url(section_key)
    if kind == "organ_donation":
        heading = _("Don d'organes")
    elif shown is not None and kind != Section.BLOOD_GROUP:
        heading = _("Modifier : %(section)s") % {"section": Section(kind).label}
    else:
        heading = _("Ajouter : %(section)s") % {"section": Section(kind).label}
    return render(request, "portal/medical/form.html", {
        "title": heading, "form": form, "section": section_key, "slug": SLUGS[section_key], "kind": kind,
    })


@require_http_methods(["GET", "POST"])
def delete(request, entry):
    me, profile = _actors(request)
    try:
        shown = entries.get_entry(me, profile, entry)
    except PolicyDenied as exc:
        return deny(request, exc)
    except MedicalError:
        raise Http404 from None
    if shown.entry.derived_from_id or shown.kind == "unconcerned":
        raise Http404
    if _wishes_kind(shown.kind):
        try:
            require(me, Action.WRITE_WISHES, profile)
        except PolicyDenied as exc:
            return deny(request, exc)
    if shown.kind == Section.MEASURES:
        back = reverse("portal:medical_measure", kwargs={"measure": shown.entry.category})
    else:
        back = reverse("portal:medical_section", kwargs={
            "section": SLUGS[Section.ENTOURAGE if shown.kind == "organ_donation" else cast(Section, shown.kind)]})
    if request.method == "POST":
        try:
            entries.delete_entry(me, profile, shown.uuid)
        except MedicalError:
            raise Http404 from None
        messages.success(request, _("L'information a été supprimée."))
        return redirect(back)
    return render(request, "portal/medical/delete.html", {
        "title": _("Supprimer cette information ?"), "shown": shown, "back_url": back,
    })


@require_POST
def unconcerned(request, section):
    me, profile = _actors(request)
    key = _section(section)
    try:
        if request.POST.get("withdraw"):
            entries.withdraw_unconcerned(me, profile, key)
        else:
            entries.declare_unconcerned(me, profile, key)
            messages.success(request, _("Votre déclaration « je n'en ai pas » est enregistrée."))
    except PolicyDenied as exc:
        return deny(request, exc)
    except MedicalError as exc:
        messages.error(request, exc.message)
    return _section_url(key)


# --- measures ---------------------------------------------------------------------------------------------


@require_safe
def measures_page(request):
    me, profile = _actors(request)
    try:
        latest = measures.latest_measures(me, profile)
    except PolicyDenied as exc:
        return deny(request, exc)
    rows = [{"measure": m, "point": latest.get(k)} for k, m in MEASURES.items()
            if not (m.growth == "head" and profile.age() >= 5 and k not in latest)]
    return render(request, "portal/medical/measures.html", {"title": _("Mesures de santé"), "rows": rows})


def _measure(key):
    if key not in MEASURES:
        raise Http404
    return MEASURES[key]


@require_http_methods(["GET", "POST"])
def measure(request, measure):
    me, profile = _actors(request)
    definition = _measure(measure)
    form = None if definition.computed else MeasureForm(
        request.POST if request.POST.get("form") == "measure" else None, measure=definition)
    target_form = TargetForm(request.POST if request.POST.get("form") == "target" else None, prefix="target")
    try:
        if request.method == "POST":
            done = _measure_post(request, me, profile, definition, form, target_form)
            if done:
                return redirect("portal:medical_measure", measure=measure)
        points = measures.series(me, profile, measure)
        target = measures.targets(me, profile).get(measure)
    except PolicyDenied as exc:
        return deny(request, exc)
    if target and not target_form.is_bound:
        target_form = TargetForm(prefix="target", initial={"low": target.low, "high": target.high})
    return render(request, "portal/medical/measure.html", {
        "title": definition.label, "measure": definition, "form": form, "target_form": target_form,
        "target": target, "points": list(reversed(points)),
        "chart": mark_safe(_measure_chart(definition, points, target)),  # noqa: S308 - built from escaped parts
        "growth": _growth_chart(profile, definition, points),
    })


def _measure_post(request, me, profile, definition, form, target_form) -> bool:
    if request.POST.get("form") == "measure" and form is not None and form.is_valid():
        try:
            measures.add_measure(me, profile, form.data_for_action())
        except MedicalError as exc:
            form.add_domain_error(exc, {"when": "when", "value": "value", "value2": "value2"})
            return False
        messages.success(request, _("La mesure est enregistrée."))
        return True
    if request.POST.get("form") == "target":
        if request.POST.get("delete"):
            try:
                measures.delete_target(me, profile, definition.key)
            except MedicalError:
                raise Http404 from None
            messages.success(request, _("L'objectif est supprimé."))
            return True
        if target_form.is_valid():
            try:
                measures.set_target(me, profile, definition.key, **target_form.cleaned_data)
            except MedicalError as exc:
                target_form.add_domain_error(exc)
                return False
            messages.success(request, _("L'objectif est enregistré."))
            return True
    return False


def _measure_chart(definition, points, target) -> str:
    if not points:
        return ""
    when = [timezone.localtime(p.when) for p in points]
    series = []
    names = [str(c[1]) for c in definition.components] or [str(definition.label)]
    colours = [charts.BLUE, "#ce0500"]
    for i, name in enumerate(names):
        series.append(charts.Series(name, [(w.timestamp(), p.values[i]) for w, p in zip(when, points, strict=True)],
                                    colour=colours[i % 2],
                                    labels=[f"{w:%d/%m/%Y %H:%M} : {p.values[i]:g} {definition.unit_label}"
                                            for w, p in zip(when, points, strict=True)]))
    band = (float(target.low) if target and target.low is not None else None,
            float(target.high) if target and target.high is not None else None) if target else None
    desc = _("%(count)s mesures du %(first)s au %(last)s ; dernière valeur : %(value)s %(unit)s.") % {
        "count": len(points), "first": f"{when[0]:%d/%m/%Y}", "last": f"{when[-1]:%d/%m/%Y}",
        "value": " / ".join(f"{v:g}" for v in points[-1].values), "unit": definition.unit_label}
    if band:
        desc += " " + _("Objectif : de %(low)s à %(high)s.") % {
            "low": band[0] if band[0] is not None else "—", "high": band[1] if band[1] is not None else "—"}
    return charts.chart(chart_id=f"chart-{definition.key}", title=_("Évolution : %(m)s") % {"m": definition.label},
                        desc=desc, y_label=definition.unit_label, series=series, band=band,
                        x_ticks=charts.time_ticks(when[0], when[-1]),
                        x_range=(when[0].timestamp(), when[-1].timestamp()))


def _growth_chart(profile, definition, points):
    if not definition.growth or not profile.is_minor():
        return None
    try:
        curve = growth.growth_chart(definition.growth, profile.sex, profile.birth_date,
                                    [(p.when.date(), p.values[0]) for p in points])
    except growth.NoReference:
        return None
    if curve is None:
        return None
    curve["svg"] = mark_safe(curve["svg"])  # noqa: S308 - built from escaped parts
    return curve


# --- mon histoire de santé, synthesis ---------------------------------------------------------------------


@require_safe
def care(request):
    me, profile = _actors(request)
    category = request.GET.get("categorie", "")
    if category and category not in CareCategory.values:
        category = ""
    try:
        days = care_actions.care_timeline(me, profile, category=category)
    except PolicyDenied as exc:
        return deny(request, exc)
    return render(request, "portal/medical/care.html", {
        "title": _("Mon histoire de santé"), "days": days, "category": category,
        "categories": CareCategory.choices,
    })


@require_POST
def care_to_treatment(request, episode):
    me, profile = _actors(request)
    try:
        care_actions.add_episode_to_treatments(me, profile, episode)
    except PolicyDenied as exc:
        return deny(request, exc)
    except MedicalError as exc:
        if exc.code == "not_found":
            raise Http404 from None
        messages.error(request, exc.message)
        return redirect("portal:medical_care")
    messages.success(request, _("Le médicament a été ajouté à vos traitements."))
    return _section_url(Section.TREATMENTS)


@require_http_methods(["GET", "POST"])
def synthesis(request):
    me, profile = _actors(request)
    try:
        record_actions.check(me, Action.WRITE_RECORD, profile)  # the synthesis is filed in the documents
    except PolicyDenied as exc:
        return deny(request, exc)
    form = SynthesisForm(request.POST or None)
    if form.is_valid():
        try:
            synthesis_actions.publish_synthesis(me, profile, form.cleaned_data["sections"])
        except PolicyDenied as exc:
            return deny(request, exc)
        except MedicalError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("La synthèse a été ajoutée à vos documents."))
            return redirect("portal:documents")
    return render(request, "portal/medical/synthesis.html", {"title": _("Créer une synthèse PDF"), "form": form})
