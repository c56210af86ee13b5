"""A small ACS listener on 127.0.0.1 for test logins.

The engineer points a test IdP or a browser at it; each POSTed SAMLResponse
is checked like a pasted one and kept. It stops after ``max_responses``
responses or ``timeout`` seconds, whichever comes first.
"""

from __future__ import annotations

import html
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy.orm import Session, sessionmaker

from backend.errors import PenjiError
from backend.sso.logins import TestLoginResult, check_test_response
from backend.sso.saml import sp_acs_url

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2_000_000


class AcsListener:
    """An HTTP server on 127.0.0.1 that checks SAMLResponses POSTed to it."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        school_slug: str,
        port: int = 0,
        max_responses: int = 1,
        timeout: float = 300.0,
        on_result: Callable[[TestLoginResult], None] | None = None,
    ) -> None:
        self.factory = factory
        self.school_slug = school_slug
        self.max_responses = max_responses
        self.timeout = timeout
        self.on_result = on_result
        self.results: list[TestLoginResult] = []
        self._done = threading.Event()
        self._lock = threading.Lock()
        # NOTE: plain HTTP on loopback only, so a browser on another machine
        # reaches it through an SSH tunnel; there is no TLS here.
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True

    @property
    def acs_url(self) -> str:
        """The listener's own ACS URL, accepted as a Destination beside the real one."""
        port = self.httpd.server_address[1]
        return sp_acs_url(f"http://127.0.0.1:{port}", self.school_slug)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._reply(
                    200, f"POST a SAMLResponse to {listener.acs_url}", "text/plain"
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._reply(413, "the POST body is larger than 2 MB", "text/plain")
                    return
                body = self.rfile.read(length).decode("utf-8", "replace")
                form = urllib.parse.parse_qs(body)
                value = form.get("SAMLResponse", [""])[0]
                if not value:
                    self._reply(400, "no SAMLResponse in the POST body", "text/plain")
                    return
                message = listener.receive(value)
                page = f"<html><body><pre>{html.escape(message)}</pre></body></html>"
                self._reply(200, page, "text/html; charset=utf-8")

            def _reply(self, status: int, text: str, kind: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("ACS listener: " + format, *args)

        return Handler

    def receive(self, value: str) -> str:
        """Check one SAMLResponse value and return the message for the browser."""
        try:
            result = check_test_response(
                self.factory,
                self.school_slug,
                value,
                via="listen",
                extra_acs_urls=(self.acs_url,),
            )
        except PenjiError as error:
            log.info("ACS listener for %s: %s", self.school_slug, error)
            return f"rejected: {error}"
        except Exception:
            log.exception("ACS listener for %s failed on a response", self.school_slug)
            return "failed: unexpected error while checking; details are in the log"
        with self._lock:
            self.results.append(result)
            if len(self.results) >= self.max_responses:
                self._done.set()
        if self.on_result is not None:
            self.on_result(result)
        return ("accepted: " if result.accepted else "rejected: ") + result.message

    def serve(self) -> list[TestLoginResult]:
        """Serve until enough responses arrived or the timeout passed; return them."""
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        log.info(
            "ACS listener for %s on %s, stops after %d response(s) or %g s",
            self.school_slug,
            self.acs_url,
            self.max_responses,
            self.timeout,
        )
        deadline = time.monotonic() + self.timeout
        try:
            self._done.wait(max(0.0, deadline - time.monotonic()))
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join(5)
        log.info(
            "ACS listener for %s stopped, %d response(s)",
            self.school_slug,
            len(self.results),
        )
        return list(self.results)

    def stop(self) -> None:
        """Make ``serve`` return now; safe to call from any thread."""
        self._done.set()
