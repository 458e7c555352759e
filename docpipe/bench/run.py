"""Run docpipe and a baseline on the same files, alternately, each in its own interpreter."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from docpipe.config import Config
from docpipe.sources.discover import iter_inputs

BASELINES = ("pymupdf4llm",)


@dataclass
class ToolResult:
    tool: str
    runs: list[dict] = field(default_factory=list)

    def _median(self, key) -> float:
        return statistics.median(key(r) for r in self.runs)

    @property
    def pages(self) -> int:
        return self.runs[0]["pages"]

    @property
    def pages_per_second(self) -> float:
        return self._median(lambda r: r["pages"] / r["wall_seconds"] if r["wall_seconds"] else 0.0)

    @property
    def wall_seconds(self) -> float:
        return self._median(lambda r: r["wall_seconds"])

    @property
    def peak_rss_mib(self) -> float:
        return max(r["peak_rss_mib"] for r in self.runs)

    def latency(self, q: float) -> float:
        values = sorted(v for r in self.runs for v in r["page_seconds"])
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(q * len(values)))]

    @property
    def stages(self) -> dict[str, float]:
        keys = {k for r in self.runs for k in r["stages"]}
        return {k: statistics.median(r["stages"].get(k, 0.0) for r in self.runs) for k in sorted(keys)}

    @property
    def vlm(self) -> dict[str, float]:
        keys = {k for r in self.runs for k in r["vlm"]}
        return {k: statistics.median(r["vlm"].get(k, 0.0) for r in self.runs) for k in sorted(keys)}

    def summary(self) -> dict:
        out = {
            "tool": self.tool,
            "pages": self.pages,
            "runs": len(self.runs),
            "pages_per_second": round(self.pages_per_second, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "latency_p50_s": round(self.latency(0.5), 4),
            "latency_p95_s": round(self.latency(0.95), 4),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "stages_s": {k: round(v, 3) for k, v in self.stages.items()},
            "failed": self.runs[0]["failed"],
        }
        if self.tool == "docpipe":
            stage_total = sum(self.stages.values())
            busy = statistics.median(r["busy_seconds"] for r in self.runs)
            # time the workers spent outside any measured stage: hashing, manifest, IPC, bookkeeping
            out["scheduler_overhead_share"] = (
                round((busy - stage_total) / stage_total, 4) if stage_total else 0.0
            )
        v = self.vlm
        if v.get("pages"):
            out["vlm"] = {
                "pages": int(v["pages"]),
                "visual_tokens_per_page": round(v["visual_tokens"] / v["pages"], 1),
                "compression_ratio": round(v["text_tokens"] / v["visual_tokens"], 2)
                if v["visual_tokens"]
                else None,
                "output_tokens_per_second": round(v["output_tokens"] / v["seconds"], 1)
                if v["seconds"]
                else None,
            }
        return out


def _child(req: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(req, fh)
        path = fh.name
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "docpipe.bench.child", path], capture_output=True, text=True, check=False
        )
    finally:
        Path(path).unlink(missing_ok=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"{req['tool']} run failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_bench(
    inputs: list[str],
    config: Config,
    workers: int,
    baseline: str | None = "pymupdf4llm",
    repeat: int = 1,
    progress=None,
) -> list[ToolResult]:
    files = [str(p) for p in iter_inputs(inputs)]
    if not files:
        raise FileNotFoundError("no PDF or image files among the inputs")
    results = [ToolResult("docpipe")] + ([ToolResult(baseline)] if baseline else [])
    with tempfile.TemporaryDirectory(prefix="docpipe-bench-") as tmp:
        for i in range(repeat):
            for res in results:  # alternate tools so that machine noise hits both alike
                req = {"tool": res.tool, "inputs": files}
                if res.tool == "docpipe":
                    req |= {
                        "config": config.model_dump(mode="json"),
                        "workers": workers,
                        "out": f"{tmp}/out{i}",
                    }
                if progress:
                    progress(f"run {i + 1}/{repeat}: {res.tool} on {len(files)} files")
                res.runs.append(_child(req))
    return results


def format_report(results: list[ToolResult]) -> str:
    rows = [r.summary() for r in results]
    lines = [f"{'':28s}" + "".join(f"{r['tool']:>16s}" for r in rows)]

    def row(label: str, key, fmt: str = "{:.2f}") -> None:
        lines.append(
            f"{label:28s}"
            + "".join(f"{fmt.format(key(r)) if key(r) is not None else '-':>16s}" for r in rows)
        )

    row("pages", lambda r: r["pages"], "{}")
    row("pages/s (median)", lambda r: r["pages_per_second"])
    row("wall seconds (median)", lambda r: r["wall_seconds"])
    row("page latency p50 (s)", lambda r: r["latency_p50_s"], "{:.4f}")
    row("page latency p95 (s)", lambda r: r["latency_p95_s"], "{:.4f}")
    row("peak memory (MiB)", lambda r: r["peak_rss_mib"], "{:.0f}")
    stages = sorted({k for r in rows for k in r["stages_s"]})
    for st in stages:
        row(f"  stage {st} (s)", lambda r, st=st: r["stages_s"].get(st), "{:.3f}")
    if "scheduler_overhead_share" in rows[0]:
        lines.append(f"{'scheduler overhead':28s}{rows[0]['scheduler_overhead_share'] * 100:>15.1f}%")
    if "vlm" in rows[0]:
        v = rows[0]["vlm"]
        lines.append(
            f"vlm: {v['pages']} pages, {v['visual_tokens_per_page']} visual tokens/page, "
            f"compression {v['compression_ratio']}x, {v['output_tokens_per_second']} output tokens/s"
        )
    if len(rows) > 1 and rows[1]["pages_per_second"]:
        ratio = rows[0]["pages_per_second"] / rows[1]["pages_per_second"]
        lines.append(
            f"docpipe / {rows[1]['tool']}: x{ratio:.2f} pages/s ({rows[0]['runs']} runs each, medians)"
        )
    for r in rows:
        for f in r["failed"]:
            lines.append(f"{r['tool']} failed: {f}")
    return "\n".join(lines)
