from typing import Any

from django.conf import settings

from .profiles import current_profile, current_role, own_person, switchable_profiles


def carnet(request):
    """Header data: the demo flag, the profile switch and the unread notification count."""
    context: dict[str, Any] = {"CARNET_DEMO": settings.CARNET_DEMO}
    if getattr(request, "user", None) is not None and request.user.is_authenticated and request.user.person_id:
        me: Any = own_person(request)  # person_id is set, so never None
        context.update(
            me=me,
            profile=current_profile(request),
            profile_role=str(current_role(request)),
            profiles=switchable_profiles(request),
            unread_notifications=me.notifications.filter(read_at__isnull=True).count(),
        )
    return context
