"""Placeholder views: replaced by the real ones."""

from django.http import HttpResponse

from ..middleware import login_exempt


@login_exempt
def home(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def activate(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def activate_credentials(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def activate_verify(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def opposition(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def opposition_proof(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def new_code(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def new_code_link(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def login(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def login_otp(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def logout(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def password_reset(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def password_reset_confirm(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def username_reminder(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def terms(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def accessibility(request, *args, **kwargs):
    return HttpResponse("todo")

