"""Login required by default: a page is public only if its view says so (`login_exempt`)."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login


class LoginRequiredMiddleware:
    PUBLIC_PREFIXES = ("/static/", "/api/", "/i18n/", "/exploitation/", "/dev/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated or getattr(view_func, "login_exempt", False):
            return None
        if request.path.startswith(self.PUBLIC_PREFIXES) or request.path == "/healthz":
            return None
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


def login_exempt(view):
    view.login_exempt = True
    return view
