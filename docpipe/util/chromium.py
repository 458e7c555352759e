"""Headless Chromium, as docpipe drives it: KaTeX rendering for math checks, and screenshots of the
review page in tests. Where to find the browser and the flags every such run needs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: A headless run that needs no sandbox, GPU, profile set-up or network of its own.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    """The browser to run: `DOCPIPE_CHROMIUM` if set (and present), else the first on PATH."""
    override = os.environ.get("DOCPIPE_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None
