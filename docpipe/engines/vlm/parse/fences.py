"""Replies wrapped whole in a code fence (```markdown ... ```): chat-tuned models do this to Markdown
they were asked for. Read literally, the page becomes one code block; unwrapped, it is the page."""

from __future__ import annotations

import re

_OPEN = re.compile(r"^(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+-]*)[ \t]*$")
_MARKDOWN_INFO = frozenset({"markdown", "md"})
# structure only Markdown (or a grounded DeepSeek-OCR reply) has
_MARKDOWN_LINE = re.compile(
    r"^(?:#{1,6}\s|\s*(?:[-*+•]|\d{1,3}[.)])\s+\S|\||<table|\$\$|\\\[|!\[|<center>|<\|ref\|>)", re.I
)
_CODE_LINE = re.compile(
    r"[{};]\s*$|^\s*(?:def|class|import|from|return|if|for|while|elif|else:|try:|except|#include|"
    r"public|private|function|var|let|const|package|fn|func)\b|=>|==|!=|\+=|->\s*\w|\)\s*:\s*$"
)


def _looks_like_markdown(body: list[str]) -> bool:
    lines = [ln for ln in body if ln.strip()]
    if not lines:
        return False
    code = sum(1 for ln in lines if _CODE_LINE.search(ln))
    if code / len(lines) >= 0.3:
        return False
    structured = any(_MARKDOWN_LINE.match(ln) for ln in lines)
    prose = sum(1 for ln in lines if len(ln.split()) >= 6)
    return structured or prose / len(lines) >= 0.5


def unwrap_reply_fence(text: str) -> tuple[str, bool]:
    """(text, unwrapped). A fence that encloses the whole reply is removed when its info string is
    markdown/md, or empty with Markdown inside (a bare fence around code stays a code block)."""
    lines = text.strip().split("\n")
    m = _OPEN.match(lines[0].strip())
    if m is None:
        return text, False
    fence, info = m.group(1), m.group(2).lower()
    closer = re.compile(re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*")
    closed = len(lines) > 1 and closer.fullmatch(lines[-1].strip()) is not None
    body = lines[1:-1] if closed else lines[1:]  # unclosed: the reply was cut at the token limit
    if info in _MARKDOWN_INFO:
        return "\n".join(body), True
    if info:
        return text, False
    # a bare fence: only a wrapper if nothing inside is a fence of its own (then the first and last
    # lines may open and close two different code blocks) and what it holds reads as Markdown
    if any(ln.strip().startswith(fence[0] * 3) for ln in body) or not _looks_like_markdown(body):
        return text, False
    return "\n".join(body), True
