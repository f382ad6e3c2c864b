"""Sphinx configuration of the Python client's reference (``make docs``).

Built with warnings as errors and in nitpicky mode: a docstring that does not parse, a
cross-reference to something that does not exist, or a public name of ``confide_client``
left out of the reference fails the build, so the reference cannot drift from the code.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import confide_client  # noqa: E402 - after the path, so the working copy is documented

project = "Confide Python client"
author = "The Confide maintainers"
copyright = "the Confide maintainers, AGPL-3.0-or-later"  # noqa: A001 - Sphinx's name
extensions = ["sphinx.ext.autodoc"]
root_doc = "index"
exclude_patterns = ["examples"]
html_theme = "alabaster"
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
autoclass_content = "class"
python_use_unqualified_type_names = True

nitpicky = True
# What the reference does not document: the standard library, the libraries under the
# client, and its own internals (the names behind ``confide_client``'s public ones are
# resolved by ``_public_name`` below). No intersphinx: the build needs no network.
nitpick_ignore_regex = [
    ("py:.*", r"(uuid|datetime|asyncio|pathlib|collections\.abc|typing|types|enum)\..*"),
    ("py:.*", r"(crypto|protocol|httpx|pydantic|websockets)(\..*)?"),
    ("py:.*", r"confide_client\.(outbox|realtime|inbox|http|wire|keys|tracking)\..*"),
    ("py:.*", r"(Any|Path|UUID|datetime|TracebackType|Mapping|AsyncIterator|Limits)"),
    ("py:.*", r"(IdentityKeyPair|PublicIdentity|ConversationKey|KdfParams|ClientFrame)"),
    ("py:.*", r"(Outbox|OutgoingMessage|SealedMessage|Sequence|Callable|ServerFrame)"),
    ("py:.*", r"(ErrorFields|ErrorCode|StrEnum|Exception|asyncio\.Queue)"),
    # `ConfideClient.call` takes `protocol.to_server.ClientFrame`, an annotated union.
    ("py:.*", r"(FieldInfo|NoneType)"),
]


def _public_name(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """``confide_client.client.ConfideClient`` (how annotations name it) as the name it is
    documented under, ``confide_client.ConfideClient``."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    found = re.fullmatch(r"confide_client\.\w+\.(\w+(?:\.\w+)*)", target) or re.fullmatch(
        r"(\w+(?:\.\w+)*)", target
    )
    if found is None:
        return None
    public = f"confide_client.{found.group(1)}"
    domain = env.get_domain("py")
    if public not in domain.objects:
        return None
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


def _every_public_name_is_documented(app: Any, env: Any) -> None:
    documented = set(env.get_domain("py").objects)
    for name in confide_client.__all__:
        if f"confide_client.{name}" not in documented:
            from sphinx.util import logging

            logging.getLogger(__name__).warning(
                "confide_client.%s is public (in __all__) but not in the reference", name
            )


def setup(app: Any) -> None:
    app.connect("missing-reference", _public_name)
    app.connect("env-check-consistency", _every_public_name_is_documented)
