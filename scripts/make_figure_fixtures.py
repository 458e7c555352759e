#!/usr/bin/env python3
"""Generate figure images of known kind for the figure classifier (docpipe.science.figure_kind).

    python scripts/make_figure_fixtures.py OUT_DIR

Writes OUT_DIR/<kind>_<n>.png for the kinds chart (matplotlib bar, line and scatter charts),
photo (smooth colour gradients with noise and soft blobs, like a photograph's statistics),
diagram (boxes, labels and arrows drawn with PIL) and chemical_structure (RDKit drawings, black and
white and in RDKit's atom colours). `images()` returns them in memory for tests. Needs matplotlib.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

MOLECULES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "COc1ccc2n(C(=O)c3ccc(Cl)cc3)c(C)c(CC(=O)O)c2c1",
    "CC(C)NCC(O)COc1cccc2ccccc12",
    "NC(=O)N1c2ccccc2C=Cc2ccccc12",
]


def _fig_to_image(fig) -> Image.Image:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def charts() -> list[Image.Image]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(7)
    out = []
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(["A", "B", "C", "D", "E"], [3, 7, 5, 9, 4])
    ax.set_title("Sales by region")
    ax.set_ylabel("units")
    out.append(_fig_to_image(fig))
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.linspace(0, 10, 200)
    ax.plot(x, np.sin(x), label="sin")
    ax.plot(x, np.cos(x) * 0.5, label="cos")
    ax.legend()
    ax.set_xlabel("time (s)")
    ax.grid(True)
    out.append(_fig_to_image(fig))
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(rng.normal(size=80), rng.normal(size=80), s=12)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    out.append(_fig_to_image(fig))
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2, 3, 4, 5], [2, 3, 2.5, 4, 4.2], color="black", marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    out.append(_fig_to_image(fig))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.barh(["alpha", "beta", "gamma"], [0.4, 0.8, 0.6], color="grey")
    out.append(_fig_to_image(fig))
    return out


def photos(size: tuple[int, int] = (480, 320)) -> list[Image.Image]:
    rng = np.random.default_rng(11)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for k in range(4):
        base = np.stack(
            [
                120 + 90 * np.sin(xx / (60 + 20 * k) + k),
                110 + 80 * np.cos(yy / (50 + 15 * k)),
                100 + 70 * np.sin((xx + yy) / (90 + 10 * k)),
            ],
            axis=-1,
        )
        for _ in range(6):  # soft blobs: objects out of focus
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(30, 90)
            mask = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
            base = base * (1 - mask) + mask * rng.uniform(20, 235, size=3)
        base += rng.normal(0, 8 + 4 * k, size=base.shape)  # sensor noise
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        out.append(img.filter(ImageFilter.GaussianBlur(0.8)))
    return out


def _arrow(draw: ImageDraw.ImageDraw, a: tuple[int, int], b: tuple[int, int]) -> None:
    draw.line([a, b], fill="black", width=2)
    vx, vy = b[0] - a[0], b[1] - a[1]
    n = max((vx * vx + vy * vy) ** 0.5, 1)
    ux, uy = vx / n, vy / n
    left = (b[0] - 10 * ux + 5 * uy, b[1] - 10 * uy - 5 * ux)
    right = (b[0] - 10 * ux - 5 * uy, b[1] - 10 * uy + 5 * ux)
    draw.polygon([b, left, right], fill="black")


def diagrams() -> list[Image.Image]:
    font = ImageFont.load_default()
    out = []
    layouts = [
        [("Input", 20, 60), ("Encoder", 170, 60), ("Decoder", 320, 60), ("Output", 470, 60)],
        [("Source", 40, 20), ("Parser", 40, 140), ("Checker", 260, 140), ("Report", 260, 260)],
        [("Start", 200, 20), ("Load", 60, 130), ("Split", 340, 130), ("Merge", 200, 240)],
    ]
    for k, boxes in enumerate(layouts):
        img = Image.new("RGB", (600, 330), "white")
        draw = ImageDraw.Draw(img)
        fill = ["white", "#dde8f6", "#f3f3f3"][k]
        centres = []
        for label, x, y in boxes:
            draw.rectangle([x, y, x + 110, y + 50], outline="black", width=2, fill=fill)
            draw.text((x + 20, y + 18), label, fill="black", font=font)
            centres.append((x + 55, y + 25))
        for (ax_, ay), (bx, by) in zip(centres, centres[1:], strict=False):
            if abs(ay - by) < 5:
                _arrow(draw, (ax_ + 55, ay), (bx - 55, by))
            elif abs(ax_ - bx) < 5:
                _arrow(draw, (ax_, ay + 25), (bx, by - 25))
            else:
                _arrow(draw, (ax_, ay + 25), (bx + (-55 if bx > ax_ else 55), by))
        out.append(img)
    return out


def molecules() -> list[Image.Image]:
    from rdkit import Chem
    from rdkit.Chem import Draw

    out = []
    for k, smiles in enumerate(MOLECULES):
        mol = Chem.MolFromSmiles(smiles)
        size = (300 + 60 * (k % 3), 300)
        if k % 2:
            out.append(Draw.MolToImage(mol, size=size).convert("RGB"))
        else:
            opts = Draw.MolDrawOptions()
            opts.useBWAtomPalette()
            out.append(Draw.MolToImage(mol, size=size, options=opts).convert("RGB"))
    return out


def images() -> dict[str, list[Image.Image]]:
    return {"chart": charts(), "photo": photos(), "diagram": diagrams(), "chemical_structure": molecules()}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for kind, imgs in images().items():
        for n, img in enumerate(imgs):
            path = target / f"{kind}_{n}.png"
            img.save(path)
            print(path)
