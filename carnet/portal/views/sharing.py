"""Confidentialité: what the habilitation matrix lets each profession read ("Qui peut voir quels documents").

The page shows the rules, not anyone's data: the same for every holder, read from the matrix the service runs
with (carnet.sharing.habilitation), unknown cells shown as what they are — not verified, hence refused.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from carnet.interop.terminology import DOCUMENT_TYPES, PatientCategory, category_for_type
from carnet.sharing import habilitation

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
