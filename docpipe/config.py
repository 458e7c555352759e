"""Configuration: `configs/default.toml` (shipped inside the package too), a user TOML file layered
over it, then command-line overrides. The effective config is recorded in every JSON output and
hashed, so that a config change re-converts documents on resume."""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from docpipe.engines.vlm.settings import VlmSettings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConvertConfig(_Section):
    engine: Literal["auto", "textlayer", "ocr", "vlm"] = "auto"
    force_ocr: bool = False
    tables: bool = True
    extract_images: bool = True
    image_dpi: int = Field(150, ge=36, le=600)
    chem: Literal["off", "auto", "on"] = "auto"
    figure_text: Literal["markdown", "json", "off"] = "markdown"
    max_pages_in_flight: int = Field(64, ge=1, le=100_000, description="pages assembled and held at once")
    password: str = ""


class ChunkConfig(_Section):
    max_tokens: int = Field(512, ge=32, le=100_000)


class OcrConfig(_Section):
    dpi: int = Field(0, ge=0, le=1200)
    max_pixels: int = Field(30_000_000, ge=1_000_000, description="cap on rasterized pixels per page")
    max_image_pixels: int = Field(180_000_000, ge=1_000_000, description="larger input images are refused")
    runtime: Literal["auto", "onnxruntime", "openvino"] = Field(
        "auto", description="what runs the OCR models; auto: OpenVINO where the CPU computes in bfloat16"
    )


class Config(_Section):
    convert: ConvertConfig = ConvertConfig()
    chunks: ChunkConfig = ChunkConfig()
    ocr: OcrConfig = OcrConfig()
    vlm: VlmSettings = VlmSettings()

    def recorded(self) -> dict[str, Any]:
        """The config as written into outputs: secrets removed."""
        data = self.model_dump(mode="json")
        data["convert"].pop("password", None)
        data["vlm"].pop("api_key", None)
        return data

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.recorded(), sort_keys=True).encode()).hexdigest()[:16]


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # bare strings need no quotes on the command line


def parse_set(items: list[str]) -> dict[str, Any]:
    """`["chunks.max_tokens=256", "convert.engine=ocr"]` -> nested dict."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or "." not in key:
            raise ValueError(f"--set expects SECTION.KEY=VALUE, got {item!r}")
        section, _, name = key.strip().partition(".")
        out.setdefault(section, {})[name] = _parse_value(raw.strip())
    return out


def default_config_text() -> str:
    return resources.files("docpipe").joinpath("default.toml").read_text(encoding="utf-8")


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    data = tomllib.loads(default_config_text())
    if path is not None:
        p = Path(path)
        try:
            data = _deep_merge(data, tomllib.loads(p.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read config {p}: {exc}") from exc
    if overrides:
        data = _deep_merge(data, overrides)
    return Config.model_validate(data)
