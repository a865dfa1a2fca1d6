"""Pluggable SMS gateways: a class with `send(number, text)`, named by CARNET_SMS_BACKEND."""

import json
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    pass


class OutboxOnlyBackend:
    """Demo and tests: the SMS stays in the outbox table (the dev outbox page shows it)."""

    def send(self, number: str, text: str) -> None:
        return None


class HttpGateway:
    """A JSON POST to an operator's SMS gateway (CARNET_SMS_GATEWAY_URL, bearer token)."""

    def send(self, number: str, text: str) -> None:
        url = settings.CARNET_SMS_GATEWAY_URL
        if not url.startswith("https://"):
            raise SmsError("CARNET_SMS_GATEWAY_URL must be an https URL")
        request = urllib.request.Request(  # noqa: S310 - https checked above
            url,
            data=json.dumps({"to": number, "text": text}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.CARNET_SMS_GATEWAY_TOKEN}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise SmsError(f"gateway answered {response.status}")


def get_backend():
    return import_string(settings.CARNET_SMS_BACKEND)()
