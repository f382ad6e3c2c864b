"""Pages of the browser client. They carry no data: everything arrives encrypted."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    """The portal's single page; the client application starts from here."""
    return render(request, "frontend/index.html")
