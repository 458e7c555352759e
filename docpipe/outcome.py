"""What converting one document reports to the batch: `DocOutcome`, one type from the pipeline to
the manifest, and `PageTally`, which sums it up from the pages as they stream past (a written
document's pages are gone by the time it is finished)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from docpipe.model import DocumentStatus, PageResult, PageStatus


@dataclass
class DocOutcome:
    path: str
    name: str
    status: DocumentStatus
    pages: int = 0
    error: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    engines: dict[str, int] = field(default_factory=dict)  # pages per engine
    page_seconds: list[float] = field(default_factory=list)  # recognition time of each page
    content_hash: str | None = None  # sha256 of the file, for the manifest
    vlm: dict[str, float] = field(default_factory=dict)  # visual/text/output tokens, vlm seconds
    vlm_fallback_reason: str | None = None  # why the first VLM page that fell back did
    # Not converted in this run: the status is the manifest's record of an earlier run (a document
    # done before is skipped; one that failed before is left alone unless --retry-failed).
    previous: bool = False


@dataclass
class PageTally:
    pages: int = 0
    failed: int = 0
    first_error: str | None = None
    partial: int = 0  # pages that lost part of their content (damaged streams, text left out)
    first_partial: str | None = None
    engines: dict[str, int] = field(default_factory=dict)
    page_seconds: list[float] = field(default_factory=list)
    vlm: dict[str, float] = field(default_factory=dict)
    vlm_fallback_reason: str | None = None

    def add(self, pages: Iterable[PageResult]) -> None:
        for p in pages:
            self.pages += 1
            self.engines[p.engine] = self.engines.get(p.engine, 0) + 1
            self.page_seconds.append(p.timings.get("route", 0.0) + p.timings.get("engine", 0.0))
            if p.status is PageStatus.failed:
                self.failed += 1
                self.first_error = self.first_error or p.error
            elif p.status is PageStatus.partial:
                self.partial += 1
                self.first_partial = self.first_partial or p.error
            if p.vlm is not None:
                # a VLM page read again by a CPU engine keeps its VLM record: count it apart, so a
                # run whose model never answered usably can say so
                fell_back = p.engine != "vlm"
                if fell_back and self.vlm_fallback_reason is None:
                    self.vlm_fallback_reason = p.error
                for key, value in (
                    ("pages", 1),
                    ("fallback_pages", int(fell_back)),
                    ("visual_tokens", p.vlm.visual_tokens),
                    ("text_tokens", p.vlm.text_tokens or 0),
                    ("output_tokens", p.vlm.output_tokens or 0),
                    ("seconds", p.timings.get("engine", 0.0)),
                ):
                    self.vlm[key] = self.vlm.get(key, 0.0) + value

    def status(self) -> tuple[DocumentStatus, str | None]:
        if self.pages and self.failed == self.pages:
            return DocumentStatus.failed, f"all {self.pages} pages failed; first: {self.first_error}"
        if self.failed or self.partial:
            parts = [f"{self.failed} of {self.pages} pages failed"] if self.failed else []
            if self.partial:
                parts.append(f"{self.partial} of {self.pages} pages partial; first: {self.first_partial}")
            return DocumentStatus.partial, "; ".join(parts)
        return DocumentStatus.ok, None
