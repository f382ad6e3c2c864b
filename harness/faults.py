"""A TCP proxy on 127.0.0.1 that breaks connections on command.

Put between a client and a real server, it forwards bytes both ways until told to:

* ``drop_connections()``: abort every connection at once (a network failure: no closing
  handshake, both ends see a reset);
* ``refuse = True``: abort new connections as soon as they are accepted (server unreachable);
* ``swallow_downstream = True``: keep forwarding client→server but throw away everything
  server→client (the server acts on a request; its answer never arrives);
* ``hold_downstream()`` … ``release_downstream()``: keep server→client bytes back, then
  deliver them all at once, in order (a slow network path);
* ``stall_downstream()`` … ``resume_downstream()``: stop reading what the server sends, as a
  client that stops reading its socket: the bytes back up in the kernel's small buffers
  (``receive_buffer`` bytes on the proxy's side) and then in the server.

Given several target ports, the proxy is a failover front: each new connection goes to the
first target that accepts it, so clients reconnect to a surviving process when one dies.

Swallowing leaves a websocket's byte stream torn, so a test drops the connections before
forwarding again. The proxy runs in the test's event loop; ``close()`` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket


class TcpProxy:
    def __init__(
        self, target_port: int, *fallback_ports: int, receive_buffer: int | None = None
    ) -> None:
        self.target_port = target_port
        self.targets = (target_port, *fallback_ports)
        self.receive_buffer = receive_buffer
        self.port = 0
        self.refuse = False
        self.swallow_downstream = False
        self._holding = False
        self._held: dict[asyncio.StreamWriter, bytearray] = {}
        self._reading = asyncio.Event()
        self._reading.set()
        self.accepted = 0
        self.swallowed_bytes = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def hold_downstream(self) -> None:
        self._holding = True

    def release_downstream(self) -> None:
        self._holding = False
        held, self._held = self._held, {}
        for sink, data in held.items():
            sink.write(bytes(data))

    def stall_downstream(self) -> None:
        self._reading.clear()

    def resume_downstream(self) -> None:
        self._reading.set()

    def drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.refuse:
            writer.transport.abort()
            return
        upstream = await self._open_upstream()
        if upstream is None:
            writer.transport.abort()
            return
        upstream_reader, upstream_writer = upstream
        self._writers.update((writer, upstream_writer))
        up = asyncio.create_task(self._pump(reader, upstream_writer, downstream=False))
        down = asyncio.create_task(self._pump(upstream_reader, writer, downstream=True))
        self._tasks.update((up, down))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
                self._tasks.discard(task)
            for end in (writer, upstream_writer):
                self._writers.discard(end)
                end.transport.abort()

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for port in self.targets:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.receive_buffer is not None:
                # Set before connecting, so the kernel does not grow it by itself.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
                return await asyncio.open_connection(sock=sock)
            except OSError:
                sock.close()
        return None

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, downstream: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                if downstream:
                    await self._reading.wait()
                data = await source.read(65536)
                if not data:
                    break
                if downstream and self.swallow_downstream:
                    self.swallowed_bytes += len(data)
                    continue
                if downstream and self._holding:
                    self._held.setdefault(sink, bytearray()).extend(data)
                    continue
                sink.write(data)
                await sink.drain()
