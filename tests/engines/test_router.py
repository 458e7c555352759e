"""Routing between the text layer and OCR, on generated mixed and garbage PDFs and on unit strings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from docpipe.engines.router import decide_route, fallback_route, text_quality

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("routing")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_scan_fixtures.py"), str(out)], check=True)
    return out


def test_mixed_pdf_routes_each_page(fixtures: Path) -> None:
    expected = json.loads((fixtures / "truth.json").read_text())["mixed_routes"]
    doc = pymupdf.open(fixtures / "mixed.pdf")
    got = [decide_route(page) for page in doc]
    assert [d.engine for d in got] == expected, [d.reason for d in got]
    assert "no text layer" in got[1].reason
    assert "invisible" in got[2].reason and "good" in got[2].reason
    assert "invisible" in got[3].reason
    assert got[5].reason == "blank page"


def test_garbage_text_layers_go_to_ocr(fixtures: Path) -> None:
    doc = pymupdf.open(fixtures / "garbage.pdf")
    decisions = [decide_route(page) for page in doc]
    assert [d.engine for d in decisions] == ["ocr", "ocr"]
    assert all("garbage" in d.reason for d in decisions)


def test_requested_and_forced(fixtures: Path) -> None:
    page = pymupdf.open(fixtures / "mixed.pdf")[0]
    assert decide_route(page).engine == "textlayer"
    assert decide_route(page, force_ocr=True).engine == "ocr"
    assert decide_route(page, requested="ocr").engine == "ocr"
    scanned = pymupdf.open(fixtures / "mixed.pdf")[1]
    assert decide_route(scanned, requested="textlayer").engine == "textlayer"
    assert decide_route(scanned, requested="textlayer", force_ocr=True).engine == "ocr"
    # another engine keeps every page; --force-ocr only picks OCR for the pages it fails
    assert decide_route(page, requested="vlm", force_ocr=True) == decide_route(page, requested="vlm")
    assert decide_route(page, requested="vlm").reason == "requested (--engine vlm)"
    assert (fallback_route(page), fallback_route(page, force_ocr=True)) == ("textlayer", "ocr")
    assert fallback_route(scanned) == "ocr"  # no text layer to fall back on


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog, and the committee met on 12 March 2024.",
        "Der schnelle braune Fuchs springt über den faulen Hund; Geschichtsschreibung ist schwierig.",
        "Loremipsumdolorsitamet,consetetursadipscingelitr,seddiamnonumyeirmodtemporinvidunt",  # no spaces
        "Notices . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . . vii",
        "Быстрая коричневая лиса прыгает через ленивую собаку. 東京は日本の首都です。",
        "E = mc² where c ≈ 3.0 × 10⁸ m/s; see Table 3 and Fig. 4(b) for the HPO results of OTSL.",
        # a page in another script whose Latin letters are abbreviations and codes (few vowels)
        "国内生产总值 GDP 同比增长 CPI PPI M2 SHIBOR LPR 季度 GDP CPI PPI M2 报告 "
        "固定资产投资 FDI PMI HSBC DXY WTI GDP CPI PPI M2 SHIBOR LPR 季度 GDP CPI PPI 社会消费品零售总额 "
        "进出口 CNY USD HKD JPY GBP KRW 国内生产总值 人民币汇率 货币政策 财政政策 宏观经济 产业结构 "
        "消费升级 居民收入 城镇化 基础设施 房地产 制造业 服务业 出口 进口 贸易顺差",
        # stacked matrices and braces: the Symbol font's delimiter pieces sit in the private-use area
        "Sei P = \uf8eb \uf8ec x1 \uf8ec ... \uf8ed xn \uf8f6 \uf8f7 \uf8f7 \uf8f8 so ist xn < 1 und "
        "H = \uf8f1 \uf8f4 \uf8f2 \uf8f4 \uf8f3 x in R \uf8fc \uf8f4 \uf8fd \uf8f4 \uf8fe die Ebene",
    ],
)
def test_good_text_is_not_garbage(text: str) -> None:
    assert not text_quality(text).is_garbage(), text_quality(text)


@pytest.mark.parametrize(
    "text",
    [
        "3HUIRUPDQFH RI WKH PRGHO LV PHDVXUHG RQ WKUHH EHQFKPDUNV DQG FRPSDUHG ZLWK RWKHU PHWKRGV",
        "\ufffd\ufffd\ufffd \ufffd\ufffd a\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd \ufffd text",
        "\ue000\ue001\ue002 \ue010\ue011 \ue020\ue021\ue022\ue023 words",
        "xK#q$Z%w zP&t*R bN^m~L hG{j}V cX|f<W dS>k=Q tR+p@M",
        "qwrtzp sdfghjkl zxcvbnm mnbvcxz lkjhgfds pztrwq bcdfg hjklm npqrs tvwxz",
    ],
)
def test_garbage_text_is_garbage(text: str) -> None:
    assert text_quality(text).is_garbage(), text_quality(text)


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_text_on_a_turned_page_is_seen(rotate: int) -> None:
    """The glyph trace is in unrotated coordinates: a landscape page turned by /Rotate keeps its text
    layer instead of being sent to OCR as a page without one."""
    doc = pymupdf.open()
    page = doc.new_page(width=842, height=595)
    for k in range(8):  # text across the whole landscape page, far beyond the turned page's width
        page.insert_text((620, 60 + 60 * k), f"Abschnitt {k}: Ergebnisse der Messung", fontsize=11)
    page.draw_rect(pymupdf.Rect(20, 20, 822, 575))  # a frame: a page with marks and no text goes to OCR
    page.set_rotation(rotate)
    decision = decide_route(doc.load_page(0))
    assert decision.engine == "textlayer" and decision.reason.startswith("text layer ok"), decision.reason


def test_corpus_born_digital_pages_keep_their_text_layer() -> None:
    pdf_dir = Path("/work/shared/corpus/dev/pdf")
    if not pdf_dir.exists():
        pytest.skip("dev corpus not available")
    for pdf in sorted(pdf_dir.glob("*.pdf")):
        doc = pymupdf.open(pdf)
        for page in doc:
            decision = decide_route(page)
            want = "ocr" if pdf.stem.startswith("ocr_test") else "textlayer"
            assert decision.engine == want, (pdf.name, page.number, decision.reason)


def _quality_by_token(text: str) -> tuple:
    """text_quality's figures the plain way, token by token and character by character."""
    import re
    import unicodedata

    from docpipe.engines import router

    letters_re = re.compile(r"[^\W\d_]+")
    bad = good = counted = latin = vowels = letters = 0
    for token in re.findall(r"\S+", text):
        runs = letters_re.findall(token)
        fragmented = len(runs) >= 3 and sum(map(len, runs)) / len(runs) < 2.5
        for run in runs:
            good += len(run) if not fragmented and router._plausible_run(run) else 0
            letters += len(run)
            latin_chars = [ch for ch in run if router._is_latin(ch)]
            latin += len(latin_chars)
            vowels += sum(ch in router._LATIN_VOWELS for ch in latin_chars)
        for ch in token:
            if ch.isalpha() or ch.isdigit() or router._is_bad_char(ch):
                counted += 1
                good += ch.isdigit() and not ch.isalpha()
                bad += not ch.isalpha() and not ch.isdigit()
            elif unicodedata.category(ch).startswith("S"):
                counted += 1
    return counted, bad, good, letters, latin, vowels


def test_text_quality_counts_as_token_by_token() -> None:
    import random

    rnd = random.Random(7)
    alphabet = "aeXYZ qwrtkl éüß_0123²½\t\n#$%\ufffd\ue000\uf8e6αβ漢字!?-–\xa0ǅⅣ"
    for _ in range(2000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 200)))
        counted, bad, good, letters, latin, vowels = _quality_by_token(text)
        q = text_quality(text)
        assert q.chars == counted, text
        if counted:
            assert (q.bad_share, q.word_share) == (bad / counted, good / counted), text
            judged = latin >= 60 and latin >= 0.5 * letters
            assert q.vowel_share == (vowels / latin if judged else None), text


def _render_modes_page() -> pymupdf.Page:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Visible words read from the page as they are drawn", fontsize=11)
    page.insert_text((72, 100), "An invisible OCR layer under a scanned picture", fontsize=11, render_mode=3)
    page.insert_text((72, 130), "Transparent words that nobody can see", fontsize=11, fill_opacity=0)
    page.insert_text((72, 160), "Outlined words are stroked, not filled", fontsize=11, render_mode=1)
    # running off the right edge: only the glyphs on the page count
    page.insert_text((560, 190), "Edge text", fontsize=11)
    return pymupdf.open("pdf", doc.tobytes())[0]


def test_text_page_counts_visible_and_invisible_text_as_the_trace() -> None:
    from docpipe.engines.router import _page_text, _text_page_text

    page = _render_modes_page()
    text, visible, invisible = _text_page_text(page)
    trace_text, trace_visible, trace_invisible = _page_text(page)
    assert (
        invisible
        == trace_invisible
        == len("AninvisibleOCRlayerunderascannedpicture") + len("Transparentwordsthatnobodycansee")
    )
    whole = len("VisiblewordsreadfromthepageastheyaredrawnOutlinedwordsarestroked,notfilledEdgetext")
    assert visible == trace_visible < whole
    assert "Outlined words" in text and "Outlined words" in trace_text


def test_router_and_text_layer_share_one_text_page() -> None:
    from docpipe.engines.textlayer import extract_text
    from docpipe.sources import page_text

    page = _render_modes_page()
    built = []
    real = pymupdf.Page.get_textpage

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("flags"))
        return real(self, *args, **kwargs)

    pymupdf.Page.get_textpage = counting
    try:
        assert decide_route(page).engine == "textlayer"
        lines = extract_text(page).lines
    finally:
        pymupdf.Page.get_textpage = real
    assert built == [page_text.TEXT_FLAGS]
    assert any("Visible words" in ln.text for ln in lines)
    assert not hasattr(page, page_text._ATTR)  # the engine took it: nothing outlives the reading


def test_a_page_sent_to_ocr_keeps_no_text_page(fixtures: Path) -> None:
    from docpipe.sources import page_text

    doc = pymupdf.open(fixtures / "garbage.pdf")
    pages = [doc[i] for i in range(len(doc))]
    assert [decide_route(p).engine for p in pages] == ["ocr", "ocr"]
    assert not any(hasattr(p, page_text._ATTR) for p in pages)
