"""Render LaTeX with KaTeX in headless Chromium and read back each glyph's box.

One Chromium process renders a whole batch: the expressions go into a small local HTML page as
JSON, the page renders each with `katex.render` (errors caught per expression), waits for the KaTeX
fonts, measures every innermost text span with `getBoundingClientRect`, and writes the results as
JSON into the DOM, which `chromium --headless --dump-dom` prints. No server, no network: the page,
KaTeX and its fonts are local files, and the browser runs with a throwaway profile.

Where things come from (first hit wins):
- Chromium: $DOCPIPE_CHROMIUM, then `chromium`, `chromium-browser`, `google-chrome` on PATH.
- KaTeX: $DOCPIPE_KATEX_DIR (a folder holding katex.min.js, katex.min.css and fonts/), then
  docpipe/eval/katex/node_modules/katex/dist as installed by scripts/install_katex.sh.

Used by the olmOCR-style math checks (docpipe.eval.math_match) and by formula validation.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

from docpipe.util.chromium import HEADLESS_FLAGS, find_chromium

_PACKAGE_KATEX = Path(__file__).parent / "katex" / "node_modules" / "katex" / "dist"
CHROMIUM_FLAGS = (
    *HEADLESS_FLAGS,
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--allow-file-access-from-files",
    # Lets the page's font-loading promise settle before the DOM is dumped.
    "--virtual-time-budget=15000",
)


class KatexUnavailable(RuntimeError):
    """Chromium or KaTeX is not installed; the message says how to install them."""


@dataclass(frozen=True)
class Symbol:
    """One rendered glyph run (an innermost KaTeX span) with its box in CSS pixels."""

    text: str
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


@dataclass
class RenderResult:
    expr: str
    ok: bool
    error: str | None = None
    symbols: list[Symbol] = field(default_factory=list)
    # KaTeX's MathML annotation-free text content, handy for messages.
    text: str = ""


def find_katex() -> Path | None:
    candidates = []
    if os.environ.get("DOCPIPE_KATEX_DIR"):
        candidates.append(Path(os.environ["DOCPIPE_KATEX_DIR"]))
    candidates.append(_PACKAGE_KATEX)
    for folder in candidates:
        if (folder / "katex.min.js").is_file() and (folder / "katex.min.css").is_file():
            return folder
    return None


def unavailable_reason() -> str | None:
    """None when math rendering can run, else a sentence saying what is missing and how to fix it."""
    missing = []
    if find_chromium() is None:
        missing.append("Chromium (apt-get install chromium, or set DOCPIPE_CHROMIUM)")
    if find_katex() is None:
        missing.append("KaTeX (run scripts/install_katex.sh, or set DOCPIPE_KATEX_DIR)")
    if not missing:
        return None
    return "math rendering needs " + " and ".join(missing)


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{css}">
<script src="{js}"></script>
</head><body>
<div id="stage"></div>
<pre id="docpipe-out"></pre>
<script id="docpipe-input" type="application/json">{payload}</script>
<script>
(function () {{
  var input = JSON.parse(document.getElementById("docpipe-input").textContent);
  var stage = document.getElementById("stage");
  var boxes = [];
  input.exprs.forEach(function (expr) {{
    var box = document.createElement("div");
    box.style.cssText = "position:relative;display:inline-block;margin:8px;";
    stage.appendChild(box);
    var entry = {{ok: true, error: null}};
    try {{
      katex.render(expr, box, {{displayMode: input.display, throwOnError: true, strict: "ignore",
                                output: "html", trust: false, maxExpand: 1000}});
    }} catch (e) {{
      entry = {{ok: false, error: String(e && e.message ? e.message : e)}};
      box.textContent = "";
    }}
    boxes.push([box, entry]);
  }});
  function measure() {{
    var results = boxes.map(function (pair) {{
      var box = pair[0], entry = pair[1];
      var origin = box.getBoundingClientRect();
      var symbols = [];
      if (entry.ok) {{
        var spans = box.querySelectorAll(".katex-html span");
        for (var i = 0; i < spans.length; i++) {{
          var s = spans[i];
          if (s.children.length > 0) continue;
          var t = s.textContent.replace(/[\\s\\u200b]+/g, "");
          if (!t) continue;
          var r = s.getBoundingClientRect();
          symbols.push([t, r.left - origin.left, r.top - origin.top, r.width, r.height]);
        }}
      }}
      return {{ok: entry.ok, error: entry.error, symbols: symbols, text: box.textContent}};
    }});
    document.getElementById("docpipe-out").textContent = JSON.stringify(results);
  }}
  if (document.fonts && document.fonts.ready) {{
    document.fonts.ready.then(measure, measure);
  }} else {{
    measure();
  }}
}})();
</script>
</body></html>
"""


def _page_html(exprs: list[str], display: bool, katex_dir: Path) -> str:
    payload = json.dumps({"exprs": exprs, "display": display})
    # Inside <script> only "</" can end the element early; JSON allows escaping the slash.
    payload = payload.replace("</", "<\\/")
    return _PAGE.format(
        css=(katex_dir / "katex.min.css").as_uri(),
        js=(katex_dir / "katex.min.js").as_uri(),
        payload=payload,
    )


def render_latex(exprs: list[str], display: bool = True, timeout: float = 120.0) -> list[RenderResult]:
    """Render each expression with KaTeX; one result per expression, in order.

    Expressions KaTeX rejects come back with ok=False and KaTeX's message. Raises
    KatexUnavailable when Chromium or KaTeX is missing, RuntimeError when the browser fails.
    """
    if not exprs:
        return []
    reason = unavailable_reason()
    if reason:
        raise KatexUnavailable(reason)
    chromium, katex_dir = find_chromium(), find_katex()
    assert chromium is not None and katex_dir is not None
    with tempfile.TemporaryDirectory(prefix="docpipe-katex-") as tmp:
        page = Path(tmp) / "render.html"
        page.write_text(_page_html(list(exprs), display, katex_dir), encoding="utf-8")
        profile = Path(tmp) / "profile"
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"chromium did not finish rendering {len(exprs)} formulas in {timeout}s"
            ) from exc
    dom = proc.stdout.decode("utf-8", errors="replace")
    out = lxml.html.fromstring(dom).get_element_by_id("docpipe-out", None) if dom.strip() else None
    raw = out.text_content() if out is not None else ""
    if not raw:
        stderr = proc.stderr.decode("utf-8", errors="replace").strip()[-500:]
        raise RuntimeError(f"chromium returned no render results (exit {proc.returncode}): {stderr}")
    data = json.loads(raw)
    results = []
    for expr, item in zip(exprs, data, strict=True):
        symbols = [
            Symbol(str(t), float(x), float(y), float(w), float(h)) for t, x, y, w, h in item["symbols"]
        ]
        results.append(
            RenderResult(expr, bool(item["ok"]), item["error"], symbols, str(item.get("text", "")))
        )
    return results
