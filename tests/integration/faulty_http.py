"""An httpx transport for a client's HTTP requests (``ConfideClient(http_transport=...)``)
that records every request and breaks one on command, as a dropped connection would:

* ``"request"``: the request never reaches the server (``httpx.ConnectError``);
* ``"answer"``: the server receives and carries out the request, and its answer is lost on
  the way back (``httpx.ReadError``);
* a number ``n``: the answer's body stops after ``n`` bytes (``httpx.ReadError`` then).

Each fault is used once, by the first request that matches it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

__all__ = ["FaultyTransport", "Seen"]


@dataclass(frozen=True)
class Seen:
    """One request as it left the client, and whether it was broken."""

    method: str
    path: str
    range: str | None
    broken: str | None


class _CutBody(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, after: int) -> None:
        self._inner = inner
        self._after = after

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._inner:
            if sent + len(chunk) >= self._after:
                yield chunk[: self._after - sent]
                raise httpx.ReadError("the connection dropped in the middle of the answer")
            sent += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class FaultyTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._faults: list[tuple[str, str, str | int]] = []
        self.seen: list[Seen] = []

    def break_once(self, method: str, path_end: str, how: str | int) -> None:
        """Breaks the next ``method`` request whose path ends with ``path_end``."""
        self._faults.append((method, path_end, how))

    def paths(self, method: str, containing: str = "") -> list[str]:
        """The paths of the requests of ``method`` sent so far, broken or not."""
        return [s.path for s in self.seen if s.method == method and containing in s.path]

    def _fault(self, request: httpx.Request) -> str | int | None:
        for fault in self._faults:
            method, path_end, how = fault
            if request.method == method and request.url.path.endswith(path_end):
                self._faults.remove(fault)
                return how
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        how = self._fault(request)
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                request.headers.get("Range"),
                None if how is None else str(how),
            )
        )
        if how == "request":
            raise httpx.ConnectError("the connection dropped before the request", request=request)
        response = await self._inner.handle_async_request(request)
        if how == "answer":
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("the connection dropped before the answer", request=request)
        if isinstance(how, int):
            assert isinstance(response.stream, httpx.AsyncByteStream)
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_CutBody(response.stream, how),
                request=request,
                extensions=response.extensions,
            )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
