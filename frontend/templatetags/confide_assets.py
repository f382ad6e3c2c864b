"""Template tags that load the client's scripts and styles with Subresource Integrity."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from frontend import bundle

register = template.Library()


@register.simple_tag
def module_script(entry: str = bundle.ENTRY) -> SafeString:
    """The entry module, and a ``modulepreload`` with integrity for each module it imports,
    so that the browser checks every module of the graph, not only the entry."""
    preloads = format_html_join(
        "\n",
        '<link rel="modulepreload" href="{}" integrity="{}">',
        ((static(path), bundle.sri(path)) for path in bundle.module_graph(entry)),
    )
    script = format_html(
        '<script type="module" src="{}" integrity="{}"></script>', static(entry), bundle.sri(entry)
    )
    return format_html("{}\n{}", preloads, script)


@register.simple_tag
def stylesheet(path: str) -> SafeString:
    """A stylesheet link with integrity."""
    return format_html(
        '<link rel="stylesheet" href="{}" integrity="{}">', static(path), bundle.sri(path)
    )
