"""Dev outbox (demo mode only; the URL does not exist otherwise): every email, SMS and letter sent,
so a person trying the demo can read their provisional code and one-time codes."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from carnet.notifications.models import OutboundMessage

from .middleware import login_exempt


@login_exempt
def outbox(request):
    if not settings.CARNET_DEMO:
        raise Http404
    messages = OutboundMessage.objects.all()
    query = request.GET.get("q", "").strip()
    if query:
        messages = messages.filter(recipient__icontains=query)
    page = Paginator(messages, 25).get_page(request.GET.get("page"))
    return render(request, "portal/outbox.html", {"page": page, "query": query, "title": "Boîte d'envoi (démo)"})
