"""Each request attempt has a deadline as a whole, and a request with its retries has one too: a
server that drips its reply a byte at a time (each byte resetting a per-read timeout) cannot hold a
request. Against a real socket on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("httpx")

from docpipe.engines.vlm.backends.base import BackendError  # noqa: E402
from docpipe.engines.vlm.backends.openai_http import OpenAIBackend  # noqa: E402
from tests.engines.vlm.openai_loopback import Loopback, Reply, completion, request, settings  # noqa: E402


def dripping(body, n) -> Reply:
    return Reply(payload=completion("x" * 500).payload, drip=0.2)  # ~600 bytes at 5 bytes/s: 2 min


def test_a_dripping_reply_fails_within_the_deadline():
    with Loopback(dripping) as srv:
        be = OpenAIBackend(settings(srv.base_url, timeout=1.0, max_retries=0))
        t0 = time.monotonic()
        (res,) = be.generate_batch([request()])
        took = time.monotonic() - t0
    assert isinstance(res, BackendError) and "no complete reply within 1.0 s" in str(res)
    assert took < 2.5, took  # the per-read timeout alone would have let it run for minutes
    assert len(srv.posts) == 1


def test_a_deadline_is_transient_and_retried():
    def drip_then_answer(body, n):
        return dripping(body, n) if n == 0 else completion("second")

    with Loopback(drip_then_answer) as srv:
        be = OpenAIBackend(settings(srv.base_url, timeout=0.8, max_retries=2))
        t0 = time.monotonic()
        (resp,) = be.generate_batch([request()])
        took = time.monotonic() - t0
    assert resp.text == "second" and resp.attempts == 2 and len(srv.posts) == 2
    assert took < 2.5, took


def test_retries_are_bounded_by_the_total_deadline():
    with Loopback(dripping) as srv:
        be = OpenAIBackend(settings(srv.base_url, timeout=0.6, max_retries=20, total_timeout=1.5))
        t0 = time.monotonic()
        (res,) = be.generate_batch([request()])
        took = time.monotonic() - t0
    assert isinstance(res, BackendError) and took < 3.0, took
    assert 2 <= len(srv.posts) <= 4  # 20 retries would be 21 posts and 13 s


def test_default_total_deadline_covers_attempts_and_backoff():
    be = OpenAIBackend(settings("http://127.0.0.1:9/v1", timeout=10.0, max_retries=2, backoff=0.5))
    assert be.total_deadline() == pytest.approx(10.0 * 3 + 1.25 * 0.5 * 8)
    be = OpenAIBackend(settings("http://127.0.0.1:9/v1", total_timeout=42.0))
    assert be.total_deadline() == 42.0


def test_a_slow_whole_reply_within_the_deadline_is_fine():
    def slow(body, n):
        return Reply(payload=completion("late but whole").payload, delay=0.4)

    with Loopback(slow) as srv:
        be = OpenAIBackend(settings(srv.base_url, timeout=2.0, max_retries=0))
        (resp,) = be.generate_batch([request()])
    assert resp.text == "late but whole" and resp.attempts == 1
