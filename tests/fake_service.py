"""A stand-in for the storage service on 127.0.0.1 that drops chosen requests the way a closing connection does.

A dropped request is read whole, then the connection is closed without an answer: the client sees exactly what
it sees when it reuses a keep-alive connection the service is closing ("Server disconnected without sending a
response"). Requests that are not dropped are answered from `answers`, or forwarded to a real service (`upstream`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

# (path, the request's number on its connection, from 1) -> drop it?
DropRule = Callable[[str, int], bool]
ANSWERS: dict[str, Any] = {"/v1/clock": {"now": "2026-11-02T00:00:00", "simulated": False},
                           "/v1/info": {"agency": "Test County", "refresh_seconds": 1}, "/v1/queries": {}}


class FakeService(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, drop: DropRule, upstream: str | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.drop, self.upstream = drop, upstream
        self.received: list[str] = []
        self.answers: dict[str, tuple[int, str, bytes]] = {}  # path -> status, content type, body

    def start(self) -> FakeService:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        if path in self.answers:
            return self.answers[path]
        if self.upstream:
            reply = httpx.request(method, self.upstream + path, content=body, headers=headers, timeout=30)
            return reply.status_code, reply.headers.get("content-type", ""), reply.content
        if path.startswith("/v1/query/") or path == "/v1/sql":
            return 200, "application/json", b'[{"n": 1}]'
        found = ANSWERS.get(path, {"ok": True})
        return 200, "application/json", json.dumps(found).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn serves
    server: FakeService

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.served = getattr(self, "served", 0) + 1  # one handler per connection
        self.server.received.append(self.path)
        if self.server.drop(self.path, self.served):
            self.close_connection = True  # read, then closed without a word
            return
        wanted = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept", "content-type")}
        status, kind, content = self.server.answer(method, self.path, wanted, body)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def fake_service(drop: DropRule, port: int = 0, upstream: str | None = None) -> Iterator[FakeService]:
    server = FakeService(port, drop, upstream).start()
    try:
        yield server
    finally:
        server.stop()


def never(path: str, nth: int) -> bool:
    return False
