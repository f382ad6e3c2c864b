"""Pages of the browser client. They carry no data: everything arrives encrypted."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone

from frontend.bundle import BUNDLE_ROOT

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


def security_txt(request: HttpRequest) -> HttpResponse:
    """``/.well-known/security.txt`` (RFC 9116): whom to tell of a weakness of this
    portal. The contact is the operator's (``CONFIDE_SECURITY_CONTACT``); without one there
    is no such file. The file expires within the half year the RFC allows, from whenever
    it is asked for, so it is never stale."""
    contact: str = settings.CONFIDE_SECURITY_CONTACT
    if not contact:
        raise Http404("No security contact is configured.")
    expires = (timezone.now() + timedelta(days=180)).replace(microsecond=0)
    lines = [
        f"Contact: {contact}",
        f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
        "Preferred-Languages: en",
        f"Canonical: {request.build_absolute_uri()}",
    ]
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "max-age=86400"
    return response


def service_worker(request: HttpRequest) -> HttpResponse:
    """``/service-worker.js``: the installable app's service worker, from the root so that
    it controls the whole portal. The file is the one under frontend/static (in the bundle
    hash); ``no-cache`` makes the browser check for a new one at each visit."""
    script = (BUNDLE_ROOT / "service-worker.js").read_bytes()
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def web_manifest(request: HttpRequest) -> JsonResponse:
    """``/manifest.webmanifest``: what a phone needs to install the portal. Its name is the
    product's, never the practice's: a home screen is seen by others."""
    manifest = {
        "name": "Confide",
        "short_name": "Confide",
        "description": "End-to-end encrypted messaging with your therapist.",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#235e4d",
        "icons": [
            {"src": static("frontend/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("frontend/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("frontend/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
