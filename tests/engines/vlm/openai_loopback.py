"""Test support (no tests here): an OpenAI-compatible server on 127.0.0.1 that answers like the real
APIs do. A handler gets each chat-completions body (and its index) and returns a `Reply`: a
completion, an error in the shape a real server sends, or bytes dripped slowly. GET /v1/models is
answered from `models` (None: 404, as on servers without the route). Requests are counted here, on
the server side. Threads are daemons, drips are bounded, and the context manager stops it all."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    payload: dict[str, Any] | None = None
    delay: float = 0.0  # seconds before answering
    drip: float = 0.0  # > 0: send the body one byte every `drip` seconds
    headers: dict[str, str] = field(default_factory=dict)


def completion(
    text: str = "ok", prompt_token_ids: list[int] | None = None, prompt_tokens: int = 300
) -> Reply:
    """A chat completion as vLLM returns it (prompt_token_ids at the top level when asked for)."""
    payload: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 3, "total_tokens": prompt_tokens + 3},
    }
    if prompt_token_ids is not None:
        payload["prompt_token_ids"] = prompt_token_ids
    return Reply(payload=payload)


def openai_error(message: str, param: str | None, code: str | None, status: int = 400) -> Reply:
    """OpenAI's error body."""
    err = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return Reply(status=status, payload={"error": err})


def vllm_error(message: str, param: str | None = None, status: int = 400) -> Reply:
    """vLLM's error body (ErrorResponse: error.message/type/param/code, code an int)."""
    return Reply(
        status=status,
        payload={"error": {"message": message, "type": "BadRequestError", "param": param, "code": status}},
    )


# the errors as OpenAI's API words them for reasoning models
MAX_TOKENS_UNSUPPORTED = openai_error(
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    "max_tokens",
    "unsupported_parameter",
)
TEMPERATURE_UNSUPPORTED = openai_error(
    "Unsupported value: 'temperature' does not support 0 with this model. "
    "Only the default (1) value is supported.",
    "temperature",
    "unsupported_value",
)


class Loopback:
    def __init__(
        self, handler: Callable[[dict[str, Any], int], Reply], models: dict[str, Any] | None = None
    ) -> None:
        self.handler = handler
        self.models = models
        self.posts: list[dict[str, Any]] = []
        self.gets: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, reply: Reply) -> None:
                data = json.dumps(reply.payload or {}).encode()
                if reply.delay:
                    server.stopping.wait(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if not reply.drip:
                    self.wfile.write(data)
                    return
                # a byte at a time, each one resetting a per-read timeout; bounded and stops when the
                # client hangs up or the server closes
                for byte in data[:200]:
                    if server.stopping.wait(reply.drip):
                        break
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        break
                self.close_connection = True

            def do_GET(self) -> None:
                with server.lock:
                    server.gets.append(self.path)
                if self.path.endswith("/models") and server.models is not None:
                    self._send(Reply(payload=server.models))
                else:
                    self._send(Reply(status=404, payload={"detail": "Not Found"}))

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.posts.append(body)
                    n = len(server.posts) - 1
                self._send(server.handler(body, n))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> Loopback:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def image_detail(body: dict[str, Any]) -> str | None:
    part = next(p for p in body["messages"][-1]["content"] if p.get("type") == "image_url")
    return part["image_url"].get("detail")


def settings(url: str, **kw: Any):
    from docpipe.engines.vlm.settings import VlmSettings

    base: dict[str, Any] = dict(model="some-vlm", base_url=url, api_key="sk-test", backoff=0.01, timeout=5.0)
    base.update(kw)
    return VlmSettings(**base)


def request(prompt: str = "Read the page.", **kw: Any):
    from PIL import Image

    from docpipe.engines.vlm.backends.base import VlmRequest

    return VlmRequest(prompt=prompt, image=Image.new("RGB", (40, 30), "white"), **kw)
