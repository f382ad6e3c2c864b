"""The accessibility check of the other tests can fail: on a page with an unlabelled field
it reports the field (so a clean report means something)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.pages import Watched, check_accessibility, expect
from tests.browser.server import Server


def test_the_accessibility_check_finds_a_missing_label(
    server: Server, new_page: Callable[..., Watched]
) -> None:
    watched = new_page()
    page = watched.page
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_accessibility(page, "sign-in")
    page.evaluate(
        "document.querySelector('main').append(Object.assign(document.createElement('input'),"
        " {type: 'text', id: 'unlabelled'}))"
    )
    with pytest.raises(AssertionError, match=r"(?s)label \(critical, light\).*#unlabelled"):
        check_accessibility(page, "sign-in with an unlabelled field")
    watched.assert_clean()
