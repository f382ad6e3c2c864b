"""An admin reads the practice's audit log in the console: a failed sign-in of the
therapist, with the address and browser it came from, found by filtering; then the same
selection downloaded as CSV, whose rows chain by their hashes. Checked with axe-core and
saved to test-artifacts/ at desktop and phone widths."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from tests.browser.pages import Watched, check_accessibility, expect, screenshot, sign_in
from tests.browser.server import Server


def test_an_admin_reads_and_downloads_the_audit_log(
    server: Server, new_page: Callable[..., Watched]
) -> None:
    therapist = server.demo["therapist"]
    admin = server.demo["admin"]

    # Someone tries the therapist's account with a wrong password.
    guesser = new_page(1280, 800).page
    guesser.goto(server.url + "/")
    guesser.get_by_label("Email").fill(therapist.email)
    guesser.get_by_label("Password").fill("not the password at all")
    guesser.get_by_role("button", name="Sign in").click()
    expect(guesser.get_by_role("alert")).to_contain_text("wrong")

    for width, height, name in ((1280, 800, "desktop"), (390, 844, "phone")):
        page = new_page(width, height).page
        sign_in(page, server.url, admin.email, admin.password)
        page.goto(server.url + "/#/admin/audit")
        expect(page.get_by_role("heading", name="Who did what, and when")).to_be_visible()
        rows = page.locator(".audit-table tbody tr")
        expect(rows.first).to_be_visible()
        page.get_by_label("Kind").select_option("signin_failed")
        page.get_by_role("button", name="Show", exact=True).click()
        # The kind filter lets only failed sign-ins through (waited for: the unfiltered
        # table stays until the filtered one arrives, and it holds the same row).
        expect(rows.filter(has_not_text="Sign-in failed")).to_have_count(0)
        failed = page.locator(".audit-table tbody tr", has_text=therapist.email)
        expect(failed.first).to_be_visible()
        expect(failed.first).to_contain_text("Sign-in failed")
        expect(failed.first).to_contain_text("127.0.0.1")
        screenshot(page, f"audit-log-{name}")
        check_accessibility(page, f"audit log, {name}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith(
        "audit-"
    ) and download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8").read()  # noqa: PTH123 (Playwright's path)
    table = list(csv.DictReader(io.StringIO(text)))
    assert table and {row["kind"] for row in table} == {"signin_failed"}
    assert any(row["actor"] == therapist.email for row in table)
    assert all(len(row["digest"]) == 64 and len(row["previous"]) == 64 for row in table)

    # The download is itself in the log.
    page.get_by_label("Kind").select_option("audit_downloaded")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator(".audit-table tbody tr", has_text=admin.email).first).to_be_visible()
