"""The demo's stand-ins for the outside world, all real and all on 127.0.0.1.

``DemoMailServer`` is an SMTP server (aiosmtpd) that files every message it
accepts in a Maildir, which any mail reader opens. ``SmsGateway`` speaks the
HTTP shape the ``sms`` channel sends, de-duplicates by idempotency key as
providers do, and keeps each accepted text as a JSON line. Tests of SMS
channels use the gateway too.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller


class _Maildir:
    """An aiosmtpd handler: every accepted message goes into a Maildir folder."""

    def __init__(self, folder: Path):
        self.box = mailbox.Maildir(str(folder), create=True)
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content or b""
        message = mailbox.MaildirMessage(data if isinstance(data, bytes) else data.encode("utf-8"))
        # Where the copy went (To and the hidden Bcc), as a delivering server would record it.
        message["X-Delivered-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.box.add(message)
            self.count += 1
        return "250 2.0.0 OK"


class _FreePortController(Controller):
    """aiosmtpd's Controller on port 0: it learns the port the system chose."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        # The controller starts an asyncio.Server, which has the sockets an AbstractServer does not declare.
        self.port = cast(asyncio.Server, self.server).sockets[0].getsockname()[1]
        super()._trigger_server()


class DemoMailServer:
    """An SMTP server on 127.0.0.1 (a free port) that files mail in ``folder`` as a Maildir."""

    host = "127.0.0.1"

    def __init__(self, folder: Path):
        self.handler = _Maildir(folder)
        self._controller = _FreePortController(self.handler, hostname=self.host, port=0, ready_timeout=10.0)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def __enter__(self) -> DemoMailServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class SmsGateway:
    """Accepts texts on 127.0.0.1 at ``url``; ``messages`` holds what it took, once per key."""

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

    def __enter__(self) -> SmsGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
