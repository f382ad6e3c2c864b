"""What accounts count for Prometheus (portal/health.py serves it): no email, no address,
no user id in any label."""

from __future__ import annotations

from prometheus_client import Counter

SIGNIN_FAILURES = Counter(
    "confide_signin_failures",
    "Sign-ins refused: a wrong password, a wrong second factor, or a limit reached.",
    ["reason"],
)
for _reason in ("password", "second_factor", "rate_limited"):
    SIGNIN_FAILURES.labels(reason=_reason)
