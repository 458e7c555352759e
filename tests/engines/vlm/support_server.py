"""Test support (no tests here): a small OpenAI-compatible chat-completions server. It binds
127.0.0.1, records each request body, and replays scripted answers (replies, HTTP errors, slow
replies, dropped connections)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# a script step: ("reply", text, finish_reason) | ("status", code, headers[, message])
# | ("sleep", seconds, text) | ("drop",)
Step = tuple


class FakeChatServer:
    def __init__(self, script: Callable[[dict[str, Any], int], Step]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body["_path"] = self.path
                body["_auth"] = self.headers.get("Authorization")
                with server.lock:
                    server.requests.append(body)
                    n = len(server.requests) - 1
                step = server.script(body, n)
                kind = step[0]
                if kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)  # no response at all
                    return
                if kind == "status":
                    msg = step[3] if len(step) > 3 else f"scripted {step[1]}"
                    payload = json.dumps({"error": {"message": msg}}).encode()
                    self.send_response(step[1])
                    for k, v in (step[2] if len(step) > 2 else {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if kind == "sleep":
                    time.sleep(step[1])
                    step = ("reply", step[2], "stop")
                text, finish = step[1], step[2] if len(step) > 2 else "stop"
                payload = json.dumps(
                    {
                        "id": f"cmpl-{n}",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": finish,
                            }
                        ],
                        "usage": {"prompt_tokens": 300, "completion_tokens": len(text) // 4},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def user_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    return "".join(p.get("text", "") for p in content if p.get("type") == "text")


def image_url(body: dict[str, Any]) -> dict[str, Any]:
    content = body["messages"][-1]["content"]
    return next(p["image_url"] for p in content if p.get("type") == "image_url")
