"""Pages of the browser client. They carry no data: everything arrives encrypted."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Minutes without interaction before the page wipes its keys and signs out (DESIGN.md §6).
DEFAULT_IDLE_SECONDS = 15 * 60


def index(request: HttpRequest) -> HttpResponse:
    """The portal's single page; the client application starts from here.

    ``/invite`` serves the same page: the invitation token travels in the fragment
    (``/invite#<token>``), which the browser never sends, so it stays out of every log.
    """
    idle = int(getattr(settings, "CONFIDE_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))
    response = render(request, "frontend/index.html", {"idle_seconds": idle})
    # Keys live in the page's memory: a page restored from the back/forward cache, or a
    # cached copy, must not outlive a sign-out.
    response["Cache-Control"] = "no-store"
    return response
