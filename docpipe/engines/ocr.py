"""The `ocr` engine: PP-OCRv6 text detection and recognition on the CPU, for scans and images.

The ONNX models ship inside the `rapidocr` wheel; this module loads them by file path with
onnxruntime, so nothing is ever downloaded (rapidocr's own loader fetches files it cannot find).
Per page:

1. a cheap probe raster gives the typical character height (see `raster`), which picks the DPI for
   detection and for recognition: small print gets more pixels, large print fewer;
2. the detector finds line boxes on the detection raster; their shapes and a 0/180 classifier on a
   few lines give the page orientation (see `orientation`);
3. line crops are cut, already upright and deskewed (each box is a rotated rectangle), from the
   recognition raster and recognised in batches of similar width;
4. boxes go back to points of the upright page, top-left origin; every raster is dropped.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pymupdf

from docpipe.engines import ocr_runtime
from docpipe.engines.base import PageInput
from docpipe.engines.ocr_runtime import padded
from docpipe.engines.orientation import (
    Quad,
    detect_rotation,
    quad_sides,
    rotate_image,
    rotate_quads,
)
from docpipe.engines.packed_lines import REC_HEIGHT, REC_MIN_WIDTH, recognise_lines
from docpipe.engines.raster import (
    DEFAULT_MAX_PIXELS,
    PROBE_DPI,
    dpi_for_pixels,
    ink_box,
    plan_raster,
    render_gray,
)
from docpipe.engines.scan_rules import scan_tables
from docpipe.engines.text_boxes import line_boxes
from docpipe.model import PageStatus
from docpipe.model.raw import Line, RawPage, RawTable, Span

INSTALL_HINT = "the OCR engine needs rapidocr and onnxruntime: pip install 'docpipe[ocr]'"
DET_MODEL = "PP-OCRv6_det_small.onnx"
# Detection in strips above this many pixels (memory: ~100 bytes a pixel of the detector's input);
# strips overlap by more than a text line is tall at detection resolution (~9 px glyphs).
DET_STRIP_PIXELS = 3_000_000
DET_STRIP_OVERLAP = 128
DET_STRIP_MIN_ROWS = 512
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"

# Batches of similar widths: on 2 shared cores one crop per run was slower (federal-register's
# figure lines 4.5 s vs 3.6 s, a page of 114 short crops 4.6 s vs 2.4 s; best of 5 each).
REC_BATCH = 12
CLS_SHAPE = (48, 192)
# Runtimes that prepare kernels per input shape (OpenVINO) get shapes rounded up to these steps, so
# that shapes repeat: 64 px is ~3% of a text line's width, 128 px ~10% of a detection's area.
REC_SHAPE_STEP = 64
DET_SHAPE_STEP = 128
MIN_TEXT_SCORE = 0.5
# Line box height (points) per point of font size: the detector's box spans ascenders to descenders
# plus its unclip margin. Calibrated on rendered fixtures with known sizes.
BOX_HEIGHT_PER_PT = 1.7


def model_dir() -> Path:
    try:
        import rapidocr
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(INSTALL_HINT) from exc
    return Path(rapidocr.__file__).resolve().parent / "models"


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass(slots=True)
class Recognised:
    text: str
    confidence: float


class PaddleOcrModels:
    """onnxruntime sessions for the three PP-OCR models, loaded once and shared by all pages."""

    def __init__(self, threads: int | None = None, models: Path | None = None, runtime: str = "auto") -> None:
        root = models or model_dir()
        paths = {name: root / name for name in (DET_MODEL, REC_MODEL, CLS_MODEL)}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"OCR model files missing: {', '.join(missing)}; reinstall with pip install 'docpipe[ocr]'"
            )
        self.runtime = ocr_runtime.resolve(runtime)
        threads = threads or default_threads()
        self.det = ocr_runtime.load(paths[DET_MODEL], threads, self.runtime, DET_SHAPE_STEP)
        self.rec = ocr_runtime.load(paths[REC_MODEL], threads, self.runtime, REC_SHAPE_STEP, streams=threads)
        self.cls = ocr_runtime.load(paths[CLS_MODEL], threads, self.runtime)
        chars = self.rec.metadata("character")
        if not chars:
            raise RuntimeError(f"{paths[REC_MODEL]} carries no character table")
        # CTC: index 0 is the blank, the table follows, and a trailing space closes it.
        self.charset = np.array(["", *chars.splitlines(), " "], dtype=object)

    # -- detection -------------------------------------------------------------------------------
    def detect(self, gray: np.ndarray) -> list[Quad]:
        """Line boxes (ordered quads, pixel coordinates of `gray`), top to bottom. A raster above
        DET_STRIP_PIXELS is detected in overlapping strips: the detector's activations cost about
        100 bytes a pixel, so a page at the 30 Mpx raster cap would take 3 GB in one pass."""
        h, w = gray.shape
        if h < 8 or w < 8:
            return []
        # A near-blank page or a figure with wide white margins: detect only where the ink is (the
        # detector costs the same per pixel of paper as per pixel of print).
        box = ink_box(gray)
        if box is not None:
            x0, y0, x1, y1 = box
            shift = np.array([x0, y0], dtype=np.float32)
            quads = [(q + shift).astype(np.float32) for q in self._detect_strips(gray[y0:y1, x0:x1])]
        else:
            quads = self._detect_strips(gray)
        quads.sort(key=lambda q: (float(q[:, 1].min()), float(q[:, 0].min())))
        return quads

    def _detect_strips(self, gray: np.ndarray) -> list[Quad]:
        h, w = gray.shape
        rows = max(DET_STRIP_MIN_ROWS, DET_STRIP_PIXELS // w // 32 * 32)
        if h <= rows + 2 * DET_STRIP_OVERLAP:
            quads = self._detect(gray)
        else:
            quads = []
            for top in range(0, h, rows):
                lo, hi = max(0, top - DET_STRIP_OVERLAP), min(h, top + rows + DET_STRIP_OVERLAP)
                for q in self._detect(gray[lo:hi]):
                    q = q + np.array([0, lo], dtype=q.dtype)
                    # each line once: from the strip whose core holds its centre, where a line less
                    # tall than the overlap lies whole
                    if top <= float(q[:, 1].mean()) < top + rows:
                        quads.append(q)
        return quads

    def _detect(self, gray: np.ndarray) -> list[Quad]:
        h, w = gray.shape
        if h < 8 or w < 8:
            return []
        # Pad to a multiple of 32 (or the runtime's shape step) with paper white instead of
        # resizing: no distortion, no resampling.
        ph, pw = padded(h, 32, self.det.shape_step), padded(w, 32, self.det.shape_step)
        x = np.full((ph, pw), 1.0, dtype=np.float32)
        x[:h, :w] = gray.astype(np.float32) * (2.0 / 255.0) - 1.0
        batch = np.broadcast_to(x, (1, 3, ph, pw)).copy()
        pred = self.det.run(batch)
        del batch, x
        return line_boxes(pred[0, 0, :h, :w])

    # -- recognition -----------------------------------------------------------------------------
    def recognise(self, crops: Sequence[np.ndarray], batch: int = REC_BATCH) -> list[Recognised]:
        out: list[Recognised] = [Recognised("", 0.0)] * len(crops)
        ratios = [c.shape[1] / max(c.shape[0], 1) for c in crops]
        order = np.argsort(ratios, kind="stable")  # similar widths together: less padding
        batches = _rec_batches(order, ratios, min(batch, self.rec.max_batch))

        def inputs() -> Iterator[np.ndarray]:
            for idx in batches:
                max_ratio = max(REC_MIN_WIDTH / REC_HEIGHT, max(ratios[i] for i in idx))
                width = padded(int(math.ceil(REC_HEIGHT * max_ratio)), self.rec.shape_step)
                x = np.zeros((len(idx), 3, REC_HEIGHT, width), dtype=np.float32)
                for row, i in enumerate(idx):
                    c = crops[i]
                    cw = min(width, max(1, int(math.ceil(REC_HEIGHT * ratios[i]))))
                    r = cv2.resize(c, (cw, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
                    x[row, :, :, :cw] = r.astype(np.float32) * (2.0 / 255.0) - 1.0
                yield x

        for idx, probs in zip(batches, self.rec.run_all(inputs()), strict=True):
            best = probs.argmax(axis=2)
            conf = probs.max(axis=2)
            for row, i in enumerate(idx):
                seq = best[row]
                keep = seq != 0
                keep[1:] &= seq[1:] != seq[:-1]
                text = "".join(self.charset[seq[keep]])
                score = float(conf[row][keep].mean()) if keep.any() else 0.0
                out[i] = Recognised(text, score)
        return out

    # -- 0 / 180 classification ------------------------------------------------------------------
    def upside_down_prob(self, crops: list[np.ndarray]) -> list[float]:
        if not crops:
            return []
        h, w = CLS_SHAPE
        x = np.zeros((len(crops), 3, h, w), dtype=np.float32)
        for row, c in enumerate(crops):
            cw = min(w, max(1, int(math.ceil(h * c.shape[1] / max(c.shape[0], 1)))))
            r = cv2.resize(c, (cw, h), interpolation=cv2.INTER_LINEAR)
            x[row, :, :, :cw] = r.astype(np.float32) * (2.0 / 255.0) - 1.0
        probs = self.cls.run(x)
        return [float(p[1]) for p in probs]


# Recognition activations grow with batch x width (and faster for wide lines): a batch of long lines
# is cut short so that its padded width stays under this many pixels.
REC_BATCH_PIXELS = 6000


def _rec_batches(order, ratios: list[float], batch: int) -> list[list[int]]:
    """Crops in width order, in batches of at most `batch` whose padded width stays in budget."""
    out: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        width = REC_HEIGHT * max(ratios[i], REC_MIN_WIDTH / REC_HEIGHT)
        # crops come sorted by width, so this one is the widest of the batch so far
        if cur and (len(cur) >= batch or width * (len(cur) + 1) > REC_BATCH_PIXELS):
            out.append(cur)
            cur = []
        cur.append(int(i))
    if cur:
        out.append(cur)
    return out


def crop_line(gray: np.ndarray, quad: Quad) -> np.ndarray:
    """Cut a (possibly tilted) line box out of `gray` as an upright, horizontal strip."""
    w, h = quad_sides(quad)
    cw, ch = max(int(round(w)), 1), max(int(round(h)), 1)
    dst = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(np.asarray(quad, dtype=np.float32), dst)
    return cv2.warpPerspective(gray, m, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


_SHARED: dict[tuple[int, str], PaddleOcrModels] = {}
_SHARED_LOCK = threading.Lock()


# Models a forked child inherited: never used and never freed there. The parent's runtime thread
# pools do not exist in the child, so running them waits forever (OpenVINO) and so does freeing them
# (onnxruntime waits in its destructor for threads that were not forked).
_INHERITED: list[PaddleOcrModels] = []


def _forget_in_child() -> None:
    # a forked worker loads its own models
    global _SHARED_LOCK
    _INHERITED.extend(_SHARED.values())
    _SHARED.clear()
    _SHARED_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def shared_models(threads: int, runtime: str = "auto") -> PaddleOcrModels:
    """One set of models per thread count and runtime per process (loading costs ~0.3 s and ~60 MB)."""
    key = (threads, ocr_runtime.resolve(runtime))
    with _SHARED_LOCK:
        models = _SHARED.get(key)
        if models is None:
            models = _SHARED[key] = PaddleOcrModels(threads, runtime=key[1])
        return models


class OcrEngine:
    """PP-OCRv6 on the CPU. `dpi` fixes the render resolution (None: chosen per page from the print
    size); `max_pixels` caps any raster; `threads` is the models' intra-op thread count; `runtime`
    runs them (see `ocr_runtime`: auto, onnxruntime or openvino)."""

    name = "ocr"
    fallback = False  # OCR is what other engines fall back on

    def __init__(
        self,
        dpi: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        threads: int | None = None,
        detect_orientation: bool = True,
        runtime: str = "auto",
    ) -> None:
        self.dpi = dpi
        self.runtime = ocr_runtime.resolve(runtime)
        self.max_pixels = max_pixels
        self.threads = threads or default_threads()
        self.detect_orientation = detect_orientation
        self._models: PaddleOcrModels | None = None
        self._pid = 0  # the process that loaded _models (an engine can be inherited by a fork)

    @property
    def models(self) -> PaddleOcrModels:
        if self._models is None or self._pid != os.getpid():
            if self._models is not None:  # loaded by the process this one was forked from
                _INHERITED.append(self._models)
            self._models = shared_models(self.threads, self.runtime)
            self._pid = os.getpid()
        return self._models

    def process(self, pages: Sequence[PageInput]) -> list[RawPage]:
        results: list[RawPage] = []
        for page_input in pages:
            t0 = time.perf_counter()
            try:
                raw = self.process_page(page_input.page, page_input.index, page_input.route_reason)
            except Exception as exc:  # one bad page must not sink the batch
                error = f"{type(exc).__name__}: {exc}"
                raw = RawPage.for_input(page_input, self.name, status=PageStatus.failed, error=error)
            raw.timings["engine"] = time.perf_counter() - t0
            results.append(raw)
        return results

    def process_page(self, page: pymupdf.Page, index: int = 0, route_reason: str = "") -> RawPage:
        models = self.models
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        pw, ph = float(page.rect.width), float(page.rect.height)

        # The probe stays within the raster cap too: a poster-sized page (a 13,000 px image at 72 dpi)
        # would otherwise be probed at full size, and its connected components cost 5 bytes a pixel.
        probe_dpi = dpi_for_pixels(page, PROBE_DPI, self.max_pixels)
        probe = render_gray(page, probe_dpi)
        plan = plan_raster(page, probe, probe_dpi, self.max_pixels, self.dpi)
        if plan.char_height_pt is None and self.dpi is None and _is_blank(probe):
            return RawPage(
                index,
                pw,
                ph,
                self.name,
                route_reason=route_reason,
                timings={"render": time.perf_counter() - t0},
            )
        if abs(plan.det_dpi - probe_dpi) / probe_dpi < 0.08:
            det_img, det_dpi = probe, probe_dpi
        else:
            det_img, det_dpi = _resample_or_render(page, probe, probe_dpi, plan.det_dpi)
        del probe
        timings["render"] = time.perf_counter() - t0

        t = time.perf_counter()
        quads = models.detect(det_img)
        timings["detect"] = time.perf_counter() - t

        t = time.perf_counter()
        rotation = 0
        if self.detect_orientation and quads:
            rotation = detect_rotation(det_img, quads, crop_line, models.upside_down_prob)
        timings["orientation"] = time.perf_counter() - t

        t = time.perf_counter()
        if abs(plan.rec_dpi - det_dpi) / det_dpi < 0.08:
            rec_img, rec_dpi = det_img, det_dpi
        else:
            rec_img, rec_dpi = render_gray(page, plan.rec_dpi), plan.rec_dpi
        dh, dw = det_img.shape
        del det_img
        rh, rw = rec_img.shape
        # Detection quads -> recognition raster pixels -> the upright frame.
        sx, sy = rw / dw, rh / dh
        quads = [q * np.array([sx, sy], dtype=np.float32) for q in quads]
        rec_img = rotate_image(rec_img, rotation)
        quads = rotate_quads(quads, rw, rh, rotation) if rotation else quads
        crops = [crop_line(rec_img, q) for q in quads]
        skew = skew_angle(quads)
        timings["render"] += time.perf_counter() - t

        t = time.perf_counter()
        # short crops (page numbers, formula pieces, table cells) share strips, as in figures
        texts = recognise_lines(models, crops, scale_long=False)
        del crops
        timings["recognise"] = time.perf_counter() - t

        up_w, up_h = (ph, pw) if rotation in (90, 270) else (pw, ph)
        scale = 72.0 / rec_dpi
        # A scan skewed by a few degrees gives tilted line boxes whose axis-aligned bounds overlap
        # their neighbours; turn the boxes back by the median skew so assembly sees level lines.
        quads = deskew_quads(quads, rw, rh, rotation, skew)
        keyed: list[tuple[float, float, Line]] = []
        for quad, rec in zip(quads, texts, strict=True):
            text = rec.text.strip()
            if not text or rec.confidence < MIN_TEXT_SCORE:
                continue
            x0, y0 = (quad.min(axis=0) * scale).tolist()
            x1, y1 = (quad.max(axis=0) * scale).tolist()
            bbox = (max(0.0, x0), max(0.0, y0), min(up_w, x1), min(up_h, y1))
            height = quad_sides(quad)[1] * scale
            span = Span(text=text, bbox=bbox, size=round(height / BOX_HEIGHT_PER_PT, 1), font="ocr")
            line = Line(spans=[span], bbox=bbox, block_hint=None, confidence=round(rec.confidence, 4))
            # Anchor on the middle of the line's left edge: on a skewed scan the boxes of neighbouring
            # lines overlap vertically, but where each line starts is still in order.
            anchor_y = float((quad[0, 1] + quad[3, 1]) / 2 * scale)
            keyed.append((anchor_y, height, line))
        lines = _reading_order(keyed)
        t = time.perf_counter()
        tables = [RawTable(bbox=b, data=d) for b, d in scan_tables(rec_img, rec_dpi, skew, lines)]
        del rec_img
        timings["tables"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        return RawPage(
            index=index,
            width=up_w,
            height=up_h,
            engine=self.name,
            lines=lines,
            tables=tables,
            rotation=rotation,
            route_reason=route_reason,
            timings={k: round(v, 4) for k, v in timings.items()},
        )


def _is_blank(gray: np.ndarray) -> bool:
    return gray.size == 0 or float(gray.std()) < 2.0 or int((gray < 128).sum()) < 20


def _resample_or_render(
    page: pymupdf.Page, probe: np.ndarray, probe_dpi: float, dpi: float
) -> tuple[np.ndarray, float]:
    """Downscaling the probe is far cheaper than a new render; going up needs real pixels."""
    if dpi < probe_dpi:
        h, w = probe.shape
        f = dpi / probe_dpi
        size = (max(1, int(round(w * f))), max(1, int(round(h * f))))
        return cv2.resize(probe, size, interpolation=cv2.INTER_AREA), probe_dpi * size[0] / w
    return render_gray(page, dpi), dpi


MIN_SKEW_DEG = 0.3


def skew_angle(quads: list[np.ndarray]) -> float:
    """Median baseline angle of the line quads (top-left, top-right, bottom-right, bottom-left), in
    radians; 0 when it is too small to matter or too large to be skew."""
    if len(quads) < 3:
        return 0.0
    angles = [float(np.arctan2(q[1, 1] - q[0, 1], q[1, 0] - q[0, 0])) for q in quads if q[1, 0] - q[0, 0] > 1]
    if not angles:
        return 0.0
    theta = float(np.median(angles))
    return theta if MIN_SKEW_DEG <= abs(np.degrees(theta)) <= 15 else 0.0


def deskew_quads(
    quads: list[np.ndarray], w: float, h: float, rotation: int, theta: float
) -> list[np.ndarray]:
    """Rotate line quads about the page centre by minus the skew angle. Boxes then live in the
    deskewed page, a frame within a few degrees of the scan's own."""
    if not theta:
        return quads
    cx, cy = (h, w) if rotation in (90, 270) else (w, h)
    center = np.array([cx / 2, cy / 2], dtype=np.float32)
    c, s_ = np.cos(-theta), np.sin(-theta)
    rot = np.array([[c, -s_], [s_, c]], dtype=np.float32)
    return [((q - center) @ rot.T + center).astype(np.float32) for q in quads]


def _reading_order(keyed: list[tuple[float, float, Line]]) -> list[Line]:
    """Top to bottom by where lines start, left to right within a row; a row is a band of half the
    median line height. Column structure is left to assembly, which groups lines geometrically."""
    if not keyed:
        return []
    heights = sorted(h for _, h, _ in keyed)
    band = max(heights[len(heights) // 2] / 2, 1.0)
    keyed.sort(key=lambda k: (int(k[0] // band), k[2].bbox[0]))
    return [line for _, _, line in keyed]
