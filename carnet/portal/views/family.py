"""Placeholder views: replaced by the real ones."""

from django.http import HttpResponse

from ..middleware import login_exempt


@login_exempt
def family(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def switch_profile(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def activate_child(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def invite(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def respond(request, *args, **kwargs):
    return HttpResponse("todo")


@login_exempt
def end(request, *args, **kwargs):
    return HttpResponse("todo")

