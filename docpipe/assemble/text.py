"""Character-level clean-up and joining lines into running text.

De-hyphenation only removes a hyphen that is a line-break artefact: a hyphen at the end of a line,
between lowercase letters, whose joined word is plausible. "Plausible" is decided with the document's
own vocabulary: if the document also writes the hyphenated form mid-line ("state-of-the-art"), the
hyphen stays; otherwise it goes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
# exotic spaces become plain spaces one for one (runs are kept: code indentation depends on them)
_INVISIBLE.update(
    dict.fromkeys(
        map(
            ord,
            "\t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000",
        ),
        " ",
    )
)
# The pieces of big delimiters at the Symbol font's private-use code points (parenlefttp ..
# bracerightbt, integralex, arrowvertex) have Unicode code points of their own since 3.2.
_INVISIBLE.update(
    {
        0xF8E6: "\u23d0",
        0xF8E7: "\u23af",
        0xF8E8: "\u00ae",
        0xF8E9: "\u00a9",
        0xF8EA: "\u2122",
        **{0xF8EB + i: chr(0x239B + i) for i in range(3)},  # ( top, extension, bottom
        **{0xF8EE + i: chr(0x23A1 + i) for i in range(3)},  # [
        **{0xF8F1 + i: chr(0x23A7 + i) for i in range(4)},  # { top, middle, bottom, extension
        0xF8F5: "\u23ae",
        **{0xF8F6 + i: chr(0x239E + i) for i in range(3)},  # )
        **{0xF8F9 + i: chr(0x23A4 + i) for i in range(3)},  # ]
        **{0xF8FC + i: chr(0x23AB + i) for i in range(3)},  # }
    }
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_HYPHENS = "-\u2010\u00ad"


def _unspaced_script(ch: str) -> bool:
    """Han, kana and CJK punctuation: scripts written without spaces between words, so a line
    break inside them is no word boundary. Hangul is left out: Korean spaces its words."""
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= o <= 0x9FFF  # CJK ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFF60  # full-width forms and punctuation
        or 0x20000 <= o <= 0x3FFFF
    )


def normalize_chars(text: str) -> str:
    """Expand ligatures, drop zero-width characters, plain spaces for exotic ones, then NFC.

    Soft hyphens are kept here: at a line end they mark a break that `join_lines` removes; inside a
    line they are dropped by `finish_text`."""
    for lig, rep in _LIGATURES.items():
        if lig in text:
            text = text.replace(lig, rep)
    return unicodedata.normalize("NFC", text.translate(_INVISIBLE))


def finish_text(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\u00ad", "")).strip()


def vocabulary(texts: Iterable[str]) -> set[str]:
    """Lower-cased words (hyphenated compounds kept whole) seen anywhere in the document."""
    vocab: set[str] = set()
    for t in texts:
        vocab.update(w.lower() for w in _WORD.findall(t))
    return vocab


def _keep_hyphen(head: str, tail: str, vocab: set[str]) -> bool:
    m_head = re.search(r"([^\W\d_]+(?:-[^\W\d_]+)*)$", head)
    m_tail = re.match(r"([^\W\d_]+)", tail)
    if not m_head or not m_tail:
        return True  # digits, punctuation, "pre-\n2020": not a broken word
    left, right = m_head.group(1), m_tail.group(1)
    if not right[0].islower():
        return True  # "Franco-\nGerman", "COVID-\n19"
    if "-" in left:
        return True  # "state-of-the-\nart": a compound continues
    joined, hyphenated = (left + right).lower(), f"{left}-{right}".lower()
    return hyphenated in vocab and joined not in vocab


def join_lines(lines: list[str], vocab: set[str] | None = None) -> str:
    """Join the lines of one paragraph with spaces, rejoining words hyphenated across line ends;
    lines of Chinese or Japanese text join without a space."""
    vocab = vocab or set()
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        if out[-1] == "\u00ad":
            out = out[:-1] + line
        elif out[-1] in _HYPHENS and len(out) > 1 and out[-2].isalpha():
            out = out + line if _keep_hyphen(out[:-1], line, vocab) else out[:-1] + line
        elif _unspaced_script(out[-1]) and _unspaced_script(line[0]):
            out = out + line
        else:
            out = out + " " + line
    return finish_text(out)
