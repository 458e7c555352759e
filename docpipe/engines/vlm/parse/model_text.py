"""The first check on a model's reply, at the engine boundary, before any parsing.

A lone surrogate ('\\ud800', from a detokenizer cutting a character in half or a server's JSON
escape) cannot be encoded to UTF-8: left in, it breaks the JSON, Markdown and chunk writers for the
whole document. A NUL is never text a model meant. Either makes the reply invalid: its page fails
(the pipeline then reads it with the CPU engines) and the reply is kept in a form every writer can
encode. Other C0 controls and the noncharacters U+FFFE/U+FFFF, which XML (and so lxml) refuses,
are dropped silently: a stray form feed in OCR output is noise, not a reason to lose the page.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DROPPED = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def json_safe(text: str) -> str:
    """`text` with lone surrogates written as backslash escapes ('\\ud800'), encodable as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def clean_model_text(text: str) -> tuple[str, list[str]]:
    """(text, problems). No problems: the reply with ignorable controls removed, ready to parse.
    Problems: the reply is invalid and the text returned is the raw reply made JSON-safe (surrogates
    and NULs backslash-escaped), to be kept for inspection, not parsed."""
    if not isinstance(text, str):
        return json_safe(repr(text)), [f"model reply is {type(text).__name__}, not text"]
    problems = []
    if _SURROGATE.search(text):
        # a high+low pair split into two code points is one character written oddly: join it
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    n_sur = len(_SURROGATE.findall(text))
    if n_sur:
        problems.append(f"invalid model output: {n_sur} lone surrogate(s), not encodable as UTF-8")
    if "\x00" in text:
        problems.append("invalid model output: NUL character(s)")
    if problems:
        return json_safe(text).replace("\x00", "\\x00"), problems
    return _DROPPED.sub("", text), []
