"""Run docpipe and a baseline on the same files, alternately, each in its own interpreter."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from docpipe.config import Config
from docpipe.sources.discover import input_paths

if TYPE_CHECKING:
    from docpipe.bench.vlm_simulator import SimConfig

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
    def sim(self) -> dict[str, float] | None:
        """Medians of the simulated engine's figures over the runs (None without a simulator)."""
        runs = [r["sim"] for r in self.runs if r.get("sim")]
        if not runs:
            return None
        keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
        return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}

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
        sim = self.sim
        if sim is not None and sim.get("completed"):
            pages = max(1, self.pages)
            out["vlm_sim"] = {
                "capacity": sim.get("capacity"),
                "capacity_run": sim.get("capacity_run"),
                "occupancy": sim.get("occupancy"),
                "requests": int(sim["completed"]),
                "rejected": int(sim.get("rejected", 0)),
                "max_in_flight": int(sim.get("max_in_flight", 0)),
                "requests_per_second": sim.get("requests_per_s"),
                "output_tokens_per_second": sim.get("output_tokens_per_s"),
                "prompt_tokens_per_second": sim.get("prompt_tokens_per_s"),
                "vlm_tokens_per_second": round(
                    sim.get("output_tokens_per_s", 0.0) + sim.get("prompt_tokens_per_s", 0.0), 1
                ),
                "visual_tokens_per_page": round(sim["visual_tokens"] / pages, 1),
                "peak_output_tokens_per_second": sim.get("peak_output_tokens_per_s"),
                "feed_seconds": sim.get("feed_s"),
                "run_seconds": sim.get("run_s"),
                "stall_seconds": sim.get("stall_s"),
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
    vlm_sim: SimConfig | None = None,
    docs_per_worker: int = 0,
    executor: dict | None = None,
) -> list[ToolResult]:
    """With `vlm_sim`, a simulated vLLM server runs on a thread of this process for the whole
    bench, docpipe's VLM engine is pointed at it, and each docpipe run records its statistics.
    `executor`: where docpipe converts, `{"executor": "ray", "address": ...}` (default: local)."""
    files = [str(p) for p in input_paths(inputs)]
    if not files:
        raise FileNotFoundError("no PDF or image files among the inputs")
    parallel = (workers, docs_per_worker, executor or {})
    if vlm_sim is None:
        return _run_bench(files, config, parallel, baseline, repeat, progress, None)
    from docpipe.bench.vlm_simulator import SimServer

    with SimServer(vlm_sim) as sim:
        vlm = config.vlm.model_copy(update={"backend": "openai", "base_url": sim.url, "model": vlm_sim.model})
        # every page goes to the simulated engine: that is what is measured
        convert = config.convert.model_copy(update={"engine": "vlm"})
        config = config.model_copy(update={"vlm": vlm, "convert": convert})
        return _run_bench(files, config, parallel, baseline, repeat, progress, sim)


def _run_bench(files, config, parallel, baseline, repeat, progress, sim) -> list[ToolResult]:
    workers, docs_per_worker, executor = parallel
    results = [ToolResult("docpipe")] + ([ToolResult(baseline)] if baseline else [])
    with tempfile.TemporaryDirectory(prefix="docpipe-bench-") as tmp:
        for i in range(repeat):
            for res in results:  # alternate tools so that machine noise hits both alike
                req = {"tool": res.tool, "inputs": files}
                if res.tool == "docpipe":
                    req |= {
                        "config": config.model_dump(mode="json"),
                        "workers": workers,
                        "docs_per_worker": docs_per_worker,
                        "out": f"{tmp}/out{i}",
                    } | executor
                if progress:
                    progress(f"run {i + 1}/{repeat}: {res.tool} on {len(files)} files")
                if sim is not None and res.tool == "docpipe":
                    # The simulator stands in for a server on its own hardware: docpipe yields the
                    # shared cores to it, so that its steps are not late for want of CPU (a late
                    # step would count as capacity docpipe failed to use).
                    req["nice"] = 10
                    sim.reset()
                    run = _child(req)
                    run["sim"] = sim.stats()
                    res.runs.append(run)
                else:
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
    if "vlm_sim" in rows[0]:
        s = rows[0]["vlm_sim"]
        lines.append(
            f"simulated vLLM: capacity kept busy {s['capacity'] * 100:.1f}% "
            f"(whole run incl. final drain {s['capacity_run'] * 100:.1f}%, slot occupancy "
            f"{s['occupancy'] * 100:.1f}%), {s['requests_per_second']} requests/s, "
            f"{s['vlm_tokens_per_second']} VLM tokens/s ({s['output_tokens_per_second']} output, "
            f"peak {s['peak_output_tokens_per_second']}), {s['visual_tokens_per_page']} visual tokens/page, "
            f"at most {s['max_in_flight']} requests in flight"
        )
    for r in rows:
        for f in r["failed"]:
            lines.append(f"{r['tool']} failed: {f}")
    return "\n".join(lines)
