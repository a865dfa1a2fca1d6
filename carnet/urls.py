from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from carnet.api.urls import api
from carnet.portal import health


def _admin_login(request, extra_context=None):
    """Operators sign in like everyone else (password + one-time code), never with the bare admin form."""
    from django.contrib.auth.views import redirect_to_login

    return redirect_to_login(request.get_full_path(), "portal:login")


admin.site.login = _admin_login
admin.site.site_header = "Carnet — exploitation"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("fhir/", include("carnet.fhir.urls")),
    path("exploitation/", admin.site.urls),
    path("pro/", include("carnet.pro.urls")),
    path("", include("carnet.portal.urls")),
]

if settings.CARNET_DEMO:
    from django.contrib.staticfiles.views import serve
    from django.urls import re_path

    from carnet.portal import outbox

    urlpatterns.insert(0, path("dev/outbox/", outbox.outbox, name="dev-outbox"))
    # `make run` has no web server in front: the demo serves the DSFR files itself.
    urlpatterns.insert(0, re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}))
