"""Settings of the VLM engine: which model, where it runs, how hard to try."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Backend = Literal["vllm", "openai", "transformers"]


class VlmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field("deepseek-ai/DeepSeek-OCR", description="model id or path, as the backend names it")
    backend: Backend = "openai"
    profile: str | None = Field(
        None, description="deepseek_ocr, deepseek_ocr2, qwen_vl, generic; None picks one from the model name"
    )
    base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible server root")
    api_key: str | None = Field(None, description="sent as a bearer token; None reads OPENAI_API_KEY")
    mode: str = Field(
        "auto",
        description="how pages are sized for the model: 'auto' (compression-aware) or one of the profile's "
        "modes (DeepSeek-OCR: global, tiled; generic: low, high)",
    )
    engine_mode: str | None = Field(
        None,
        description="DeepSeek-OCR: the resolution mode the engine itself runs (vLLM: gundam for "
        "DeepSeek-OCR, gundam2 for DeepSeek-OCR 2; tiny/small/base/large for engines patched to run "
        "them); None: the profile's default",
    )
    task: str = Field("markdown", description="profile task for the page pass: markdown, free, structured")
    max_compression: float = Field(10.0, gt=0, description="largest text-to-visual-token ratio for 'auto'")
    max_concurrency: int = Field(32, ge=1, description="requests in flight per engine")
    max_batch_size: int = Field(64, ge=1, description="vLLM offline: requests per generate call")
    max_batch_visual_tokens: int = Field(
        65536, ge=64, description="vLLM offline: visual tokens per generate call (bounds image memory)"
    )
    timeout: float = Field(
        120.0,
        gt=0,
        description="seconds per HTTP request attempt, as a whole (connect, upload, generation, reply)",
    )
    total_timeout: float | None = Field(
        None,
        gt=0,
        description="seconds per request including retries and back-off; None: timeout x attempts + back-off",
    )
    max_retries: int = Field(4, ge=0, description="transport retries (429, 5xx, timeouts, drops)")
    backoff: float = Field(0.5, ge=0, description="first back-off delay in seconds; doubles per retry")
    figure_pass: bool = Field(True, description="send each figure crop back with the figure prompt")
    temperature: float = Field(0.0, ge=0)
    retry_temperature: float = Field(0.3, ge=0, description="temperature of the retry after a loop")
    max_tokens: int = Field(
        8192, ge=1, description="output tokens at most; cut to the context left by the prompt"
    )
    max_model_len: int | None = Field(
        None,
        ge=1,
        description="the engine's context length (prompt + output); None learns it "
        "(vLLM's /v1/models, the offline LLM's model config)",
    )
    max_pixels: int | None = Field(
        None,
        ge=1,
        description="Qwen-VL: most pixels of the image sent, as the server's --mm-processor-kwargs "
        "max_pixels; None: the checkpoint's default",
    )
    min_pixels: int | None = Field(
        None,
        ge=1,
        description="Qwen-VL: fewest pixels of the image sent (server's min_pixels); None: default",
    )
    detail: Literal["auto", "low", "high"] | None = Field(
        "high", description="OpenAI image detail; None leaves the field out for servers that reject it"
    )
    structured_output: bool = Field(True, description="use response_format json_schema where offered")
    server_extras: bool = Field(
        True,
        description="send vLLM-only request fields (vllm_xargs, mm_processor_kwargs, return_token_ids) "
        "to the server; ones a server rejects are left out for the rest of the run",
    )
    dpi: int = Field(144, ge=36, le=600, description="page raster resolution before mode resizing")
    max_render_pixels: int = Field(
        4_000_000, ge=65_536, description="cap on a page raster's pixels (huge pages render at a lower dpi)"
    )
    device: str = Field("cpu", description="transformers backend: torch device")
    dtype: str = Field("auto", description="transformers backend: torch dtype")
    vllm_kwargs: dict = Field(default_factory=dict, description="extra keyword arguments for vllm.LLM")
