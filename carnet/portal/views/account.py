"""Placeholder views: replaced by the real ones."""

from django.http import HttpResponse

from ..middleware import login_exempt


@login_exempt
def account(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def password_change(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def contact_change(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def contact_change_confirm(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def devices(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def preferences(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def notifications(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def history(request, *args, **kwargs):
    return HttpResponse("todo")

