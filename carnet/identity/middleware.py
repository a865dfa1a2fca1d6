"""Keeps the list of signed-in devices current, and ends a browser session signed out elsewhere."""

from django.contrib.auth import logout
from django.utils import timezone

from .models import DeviceSession


class DeviceSessionMiddleware:
    TOUCH_EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            device_uuid = request.session.get("device")
            device = DeviceSession.objects.filter(uuid=device_uuid, account=user).first() if device_uuid else None
            if device is None or device.ended_at is not None:
                logout(request)
            elif (timezone.now() - device.last_seen_at).total_seconds() > self.TOUCH_EVERY_SECONDS:
                DeviceSession.objects.filter(pk=device.pk).update(
                    last_seen_at=timezone.now(), session_key=request.session.session_key or device.session_key
                )
        return self.get_response(request)
