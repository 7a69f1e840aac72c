"""A real SMS gateway on the loopback interface, for the demo and for tests of SMS channels.

It speaks the request shape the ``sms`` channel sends (a JSON ``POST`` of
``to``, ``from``, ``text``, ``reference`` with an ``Idempotency-Key``
header), de-duplicates by that key as providers do, and appends every
accepted message to a JSON-lines file when given one, so the demo's texts
can be read afterwards.

    with LoopbackSmsGateway(outbox=Path("sms.jsonl")) as gateway:
        ... [channels.sms] url = gateway.url ...
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class LoopbackSmsGateway:
    """Accepts messages on 127.0.0.1 at ``url``; ``messages`` holds what it took, once per key."""

    def __init__(self, outbox: Path | None = None) -> None:
        self.outbox = outbox
        self.messages: list[dict[str, Any]] = []
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                    to, text = body["to"], body["text"]
                except (ValueError, KeyError, TypeError):
                    self._answer(422, {"error": "expected JSON with to and text"})
                    return
                key = self.headers.get("Idempotency-Key") or body.get("reference") or ""
                self._answer(201, {"id": gateway._accept(key, {**body, "to": to, "text": text}), "status": "queued"})

            def _answer(self, status: int, data: dict[str, Any]) -> None:
                reply = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the demo's output is the run's, not the gateway's

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/messages"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def _accept(self, key: str, message: dict[str, Any]) -> str:
        with self._lock:
            if key in self._ids:
                return self._ids[key]  # a retry of a message already taken
            message_id = f"sms-{len(self._ids) + 1}"
            self._ids[key] = message_id
            record = {"id": message_id, **message}
            self.messages.append(record)
            if self.outbox is not None:
                self.outbox.parent.mkdir(parents=True, exist_ok=True)
                with self.outbox.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
            return message_id

    def start(self) -> "LoopbackSmsGateway":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LoopbackSmsGateway":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
