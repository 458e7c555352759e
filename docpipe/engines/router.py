"""Per-page routing, the one policy: which engine reads a page, and which reads it again when that
engine fails it. `docpipe.recognition` asks nothing else.

- `--engine auto` (the default): the text layer where it deserves trust, else OCR (below).
- `--engine textlayer` / `ocr`: that engine for every page.
- `--force-ocr`: OCR for every page the CPU engines would read (auto, textlayer, ocr).
- `--engine vlm` (or any engine that is not a CPU engine): that engine for every page; `--force-ocr`
  does not change the route, only the fallback: a page the engine fails is read again with OCR
  instead of its text layer. Without it, the fallback is OCR only for pages without a text layer.

Does a page's text layer deserve trust, or does the page need OCR?

A page goes to OCR when it has no text layer, when its text is garbage, or when its text is a scan's
invisible OCR layer (render mode 3, or text under a full-page image) of poor quality. Garbage is
measured, not guessed: the share of characters that are replacement characters, private-use glyphs
or controls (what broken font encodings extract to), and the share of characters that sit in
plausible words (glyph soup from a wrong encoding is letters and symbols in no language's order).

It costs next to nothing: the verdict reads the text page that the text-layer engine extracts anyway
(`sources.page_text`); only a page it would not trust is judged again from the text trace, one more
pass over that page's content. No rendering, no image decoding.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import pymupdf

from docpipe.sources.page_text import take, text_page

CPU_REQUESTS = ("auto", "textlayer", "ocr")  # what --force-ocr overrides
FULL_PAGE_IMAGE = 0.8  # share of the page an image must cover to make it a scan
MIN_CHARS = 20  # fewer visible characters than this and the page says too little to judge
MAX_BAD_SHARE = 0.05  # replacement / private-use / control characters
MIN_WORD_SHARE = 0.55  # characters in plausible words, born-digital text
MIN_WORD_SHARE_SCAN = 0.75  # an existing OCR layer must be clearly good to be kept over our own OCR
MIN_VOWEL_SHARE = 0.25  # European languages run 30-45% vowels; shifted encodings 10-20%, random 23%
MIN_LATIN_FOR_VOWELS = 60

_RENDER_INVISIBLE = 3  # PDF text render mode 3: neither filled nor stroked
_PAINTED = pymupdf.mupdf.FZ_STEXT_FILLED | pymupdf.mupdf.FZ_STEXT_STROKED  # a text page's glyph flags
_SOUND = "text layer ok"
_LETTERS = re.compile(r"[^\W\d_]+")
_LATIN_VOWELS = set("aeiouyAEIOUYàáâãäåæèéêëìíîïòóôõöøùúûüýÿœÀÁÂÃÄÅÆÈÉÊËÌÍÎÏÒÓÔÕÖØÙÚÛÜÝŒ")


@dataclass(frozen=True, slots=True)
class RouteDecision:
    engine: str  # "textlayer" | "ocr" (or whatever engine the user asked for)
    reason: str


@dataclass(frozen=True, slots=True)
class TextQuality:
    chars: int  # letters, digits, symbols and unmapped characters (punctuation and spaces excluded)
    bad_share: float  # replacement / private-use / control characters
    word_share: float  # characters in plausible letter runs or numbers
    vowel_share: float | None  # vowels among Latin letters; None when there are too few to judge

    def is_garbage(self, min_word_share: float = MIN_WORD_SHARE) -> bool:
        if self.chars == 0:
            return True
        if self.bad_share > MAX_BAD_SHARE:
            return True
        if self.vowel_share is not None and self.vowel_share < MIN_VOWEL_SHARE:
            return True
        return self.chars >= MIN_CHARS and self.word_share < min_word_share

    def describe(self) -> str:
        vowels = "" if self.vowel_share is None else f", {self.vowel_share:.0%} Latin vowels"
        return (
            f"{self.chars} chars, {self.word_share:.0%} in plausible words, "
            f"{self.bad_share:.0%} unmapped{vowels}"
        )


# Adobe's Symbol font puts the pieces of big delimiters (parenlefttp, bracketex, braceleftmid,
# integralex, ...) at these private-use code points, and TeX and Word PDFs map their extension
# glyphs there too: a page of stacked matrices and braces is math, not a broken encoding.
_SYMBOL_PIECES = range(0xF8E5, 0xF8FF)


def _is_bad_char(ch: str) -> bool:
    if ch == "\ufffd":
        return True
    if ord(ch) in _SYMBOL_PIECES:
        return False
    cat = unicodedata.category(ch)
    return cat in ("Co", "Cs", "Cn") or (cat == "Cc" and ch not in "\t\n\r")


def _is_latin(ch: str) -> bool:
    return ch.isascii() or "LATIN" in unicodedata.name(ch, "")


@lru_cache(maxsize=65536)  # words repeat: a page's runs are mostly a few hundred distinct ones
def _plausible_run(run: str) -> bool:
    """A maximal run of letters that could be (part of) a word in some language. Runs may be
    several words glued together (text layers without space characters), so no length limit."""
    if len(run) < 4 or not all(_is_latin(ch) for ch in run):
        return True  # short runs and non-Latin scripts: no cheap test, trust them
    vowels = sum(ch in _LATIN_VOWELS for ch in run)
    if vowels == 0 or (len(run) >= 8 and vowels < 0.15 * len(run)):
        return False  # "xqzkt", "HUIRUPDQFH": no language strings that many consonants
    # Case soup ("hElLo", "aBCdE") is an encoding shift; lower, Title, UPPER and camelCase are fine.
    flips = sum(1 for a, b in zip(run, run[1:], strict=False) if a.islower() and b.isupper())
    flips += sum(
        1
        for a, b, c in zip(run, run[1:], run[2:], strict=False)
        if a.isupper() and b.isupper() and c.islower()
    )
    return flips <= max(1, len(run) // 5)


def text_quality(text: str) -> TextQuality:
    bad = good = counted = latin = vowels = letters = 0
    # Character classes are counted once per distinct character (a page has a few hundred of them
    # and thousands of characters); only the word test needs the tokens.
    for ch, n in Counter(text).items():
        if ch.isspace():
            continue
        if ch.isalpha():
            counted += n
        elif ch.isdigit():
            counted += n
            good += n
        elif _is_bad_char(ch):
            counted += n
            bad += n
        elif unicodedata.category(ch).startswith("S"):
            counted += n  # symbols count against the text: they are not words
        if _LETTERS.fullmatch(ch):
            letters += n
            if _is_latin(ch):
                latin += n
                vowels += n * (ch in _LATIN_VOWELS)
    for token in text.split():
        if token.isalpha():  # most tokens: one run of letters
            good += len(token) if _plausible_run(token) else 0
            continue
        # Fragmented tokens ("a#b$c%d"): letters broken up by symbols are soup, not words.
        runs = _LETTERS.findall(token)
        if len(runs) >= 3 and sum(map(len, runs)) / len(runs) < 2.5:
            continue
        good += sum(len(run) for run in runs if _plausible_run(run))
    if counted == 0:
        return TextQuality(0, 0.0, 0.0, None)
    # The vowel test judges Latin-script text; on a page in another script, its Latin letters are
    # mostly abbreviations and codes ("GDP", "CPI", "kWh"), which have few vowels in any language.
    judged = latin >= MIN_LATIN_FOR_VOWELS and latin >= 0.5 * letters
    vowel_share = vowels / latin if judged else None
    return TextQuality(counted, bad / counted, good / counted, vowel_share)


def fallback_route(page: pymupdf.Page, force_ocr: bool = False) -> str:
    """The CPU engine that reads a page another engine failed: OCR when the page has no text layer
    to read or OCR is forced, else the text layer (fast, and exact where it exists)."""
    return "ocr" if force_ocr or not page.get_text("text").strip() else "textlayer"


def text_layer_words(page: pymupdf.Page) -> int:
    """Characters of the page's text layer that sit in plausible words: what a reading of the page
    should hold at least about as much of (see `recognition`, OCR that reads nothing)."""
    quality = text_quality(_page_text(page)[0])
    return round(quality.chars * quality.word_share)


def _page_text(page: pymupdf.Page) -> tuple[str, int, int]:
    """(text, visible chars, invisible chars) of the page's text layer, from the text trace: every
    glyph as drawn, with its render mode (3 = invisible) and opacity. Exact, and a pass over the
    page of its own: only pages the text page would send elsewhere are judged from it."""
    parts: list[str] = []
    visible = invisible = 0
    # The trace is in the unrotated page's coordinates: on a /Rotate 90 or 270 page, `page.rect` (the
    # turned page) would cut off text that is on the page.
    width, height = page.cropbox.width, page.cropbox.height
    for span in page.get_texttrace():
        chars = span["chars"]
        # Plain float tests (half-open, as MuPDF's point-in-rect): a Point and a C call per glyph
        # cost more than the rest of routing together.
        x0, y0, x1, y1 = span["bbox"]
        if x0 < 0 or x1 >= width or y0 < 0 or y1 >= height:
            chars = [c for c in chars if 0 <= c[2][0] < width and 0 <= c[2][1] < height]
        text = "".join(chr(c[0]) if c[0] >= 0 else "\ufffd" for c in chars)
        n = len(text) - text.count(" ")
        if not n:
            continue
        if span["type"] == _RENDER_INVISIBLE or span.get("opacity", 1.0) == 0:
            invisible += n
        else:
            visible += n
        parts.append(text)
    return "\n".join(parts), visible, invisible


def _text_page_text(page: pymupdf.Page) -> tuple[str, int, int]:
    """The same from the text page the text-layer engine reads next (`sources.page_text`), at no
    cost of its own. Spans split where the fill, stroke or opacity of their glyphs change, so each
    span is visible or invisible as a whole; a span crossing the page's edge counts by its centre."""
    data = text_page(page).data
    width, height = data["width"], data["height"]  # the unrotated page, as the trace's
    parts: list[str] = []
    visible = invisible = 0
    for block in data["blocks"]:
        for line in block.get("lines", ()):
            for span in line["spans"]:
                text = span["text"]
                n = len(text) - text.count(" ")
                if not n:
                    continue
                x0, y0, x1, y1 = span["bbox"]
                if not (0 <= x0 + x1 < 2 * width and 0 <= y0 + y1 < 2 * height):
                    continue
                if span["alpha"] == 0 or not span["char_flags"] & _PAINTED:
                    invisible += n
                else:
                    visible += n
                parts.append(text)
    return "\n".join(parts), visible, invisible


def _full_page_image(page: pymupdf.Page) -> bool:
    area = abs(page.rect)
    if not area or not page.get_images(full=False):  # the resource list is free; image boxes are not
        return False
    for info in page.get_image_info():
        if abs(pymupdf.Rect(info["bbox"]) & page.rect) >= FULL_PAGE_IMAGE * area:
            return True
    return False


def _has_marks(page: pymupdf.Page) -> bool:
    """Anything drawn at all (images or vector paths): outlined text needs OCR, a blank page does not."""
    return bool(page.get_images(full=False)) or bool(page.get_cdrawings())


def decide_route(page: pymupdf.Page, requested: str = "auto", force_ocr: bool = False) -> RouteDecision:
    """Which engine a page goes to. `requested` is the --engine choice (auto, textlayer, ocr, or
    another engine name, passed through); `force_ocr` sends every page a CPU engine would read to
    OCR, and leaves the pages of another requested engine (vlm) to it."""
    if force_ocr and requested in CPU_REQUESTS:
        return RouteDecision("ocr", "forced (--force-ocr)")
    if requested != "auto":
        return RouteDecision(requested, f"requested (--engine {requested})")

    # The text page (shared with the text-layer engine) decides for the pages it finds sound. It maps
    # some glyphs without Unicode to U+FFFD where the trace recovers them from the font (leader dots
    # in a table of contents), so any other verdict is taken again from the trace.
    decision = _judge(page, *_text_page_text(page))
    if decision.reason.startswith(_SOUND):
        return decision
    decision = _judge(page, *_page_text(page))
    if decision.engine != "textlayer":
        take(page)  # no text-layer reading to hand it to: let it go with the verdict
    return decision


def _judge(page: pymupdf.Page, text: str, visible: int, invisible: int) -> RouteDecision:
    if visible + invisible == 0:
        if _has_marks(page):
            return RouteDecision("ocr", "no text layer")
        return RouteDecision("textlayer", "blank page")

    quality = text_quality(text)
    if quality.is_garbage():
        kind = "invisible text layer" if invisible > visible else "garbage text layer"
        return RouteDecision("ocr", f"{kind} ({quality.describe()})")
    if invisible > visible:
        # A scanner's OCR layer: keep it only if it reads clearly well, else our OCR does better.
        if quality.is_garbage(MIN_WORD_SHARE_SCAN):
            return RouteDecision("ocr", f"invisible OCR layer of poor quality ({quality.describe()})")
        return RouteDecision("textlayer", f"invisible OCR layer of good quality ({quality.describe()})")
    if quality.is_garbage(MIN_WORD_SHARE_SCAN) and _full_page_image(page):
        # Visible but mediocre text with a scan over or under it: also an OCR layer, judged the same way.
        return RouteDecision("ocr", f"text layer with a full-page image, poor quality ({quality.describe()})")
    return RouteDecision("textlayer", f"{_SOUND} ({quality.describe()})")
