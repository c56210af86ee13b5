"""A TCP proxy on 127.0.0.1 that forwards to a test server and can cut the link.

Each chunk is handed to a hook before it is forwarded. The hook sees the
direction ("up" from client to server, "down" from server to client) and the
bytes forwarded so far in that direction on this connection, and returns True to
cut the connection: both sockets close and the chunk is dropped, as when a
server dies or the network fails.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType

from tests.services._process import pick_free_port

Hook = Callable[[str, int], bool]
CHUNK_BYTES = 16 * 1024


def never_cut(direction: str, total: int) -> bool:
    return False


class CuttingProxy:
    """Forward 127.0.0.1:``port`` to 127.0.0.1:``target_port`` until a hook cuts."""

    def __init__(self, target_port: int, hook: Hook = never_cut) -> None:
        self.target_port = target_port
        self.hook = hook
        self.port = pick_free_port()
        self.cuts = 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._links: list[_Link] = []

    def __enter__(self) -> CuttingProxy:
        accepter = threading.Thread(target=self._accept, daemon=True)
        accepter.start()
        self._threads.append(accepter)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closed.set()
        # shutdown() wakes the thread blocked in accept(); close() alone does not.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.target_port))
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            for source, target, direction in (
                (client, server, "up"),
                (server, client, "down"),
            ):
                pump = threading.Thread(
                    target=self._pump,
                    args=(link, source, target, direction),
                    daemon=True,
                )
                pump.start()
                self._threads.append(pump)

    def _pump(
        self, link: _Link, source: socket.socket, target: socket.socket, direction: str
    ) -> None:
        total = 0
        while True:
            try:
                chunk = source.recv(CHUNK_BYTES)
            except OSError:
                chunk = b""
            if not chunk:
                link.close()
                return
            total += len(chunk)
            if self.hook(direction, total):
                with self._lock:
                    self.cuts += 1
                link.close()
                return
            try:
                target.sendall(chunk)
            except OSError:
                link.close()
                return


class _Link:
    """The two sockets of one proxied connection, closed together."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.sockets = (client, server)
        self._closed = False
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
