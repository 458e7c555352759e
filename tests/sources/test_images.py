"""Image files as PyMuPDF documents: formats, frames, page size from DPI, refusal of pixel bombs."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from docpipe.errors import InputError
from docpipe.sources.images import IMAGE_SUFFIXES, open_image_document


def sheet(size: tuple[int, int] = (400, 300), mode: str = "L") -> Image.Image:
    img = Image.new(mode, size, "white")
    ImageDraw.Draw(img).rectangle((40, 40, 200, 80), fill="black")
    return img


@pytest.mark.parametrize(
    "suffix,dpi,points",
    [
        (".png", (150, 150), (192.0, 144.0)),
        (".jpg", (300, 300), (96.0, 72.0)),
        (".webp", None, (400.0, 300.0)),
        (".bmp", (72, 72), (400.0, 300.0)),
        (".tif", (200, 100), (144.0, 216.0)),
    ],
)
def test_single_frame_formats(
    tmp_path: Path, suffix: str, dpi: tuple[int, int] | None, points: tuple
) -> None:
    assert suffix in IMAGE_SUFFIXES
    path = tmp_path / f"page{suffix}"
    kwargs = {"dpi": dpi} if dpi else {}
    sheet().save(path, **kwargs)
    doc = open_image_document(path)
    assert doc.page_count == 1
    page = doc[0]
    assert page.rect.width == pytest.approx(points[0], abs=0.6)
    assert page.rect.height == pytest.approx(points[1], abs=0.6)
    # The pixels survive: the black bar is dark, the margin is white.
    pix = page.get_pixmap(dpi=72, colorspace="gray")
    assert min(pix.samples) < 50 and max(pix.samples) > 200


def test_multipage_tiff_gives_one_page_per_frame(tmp_path: Path) -> None:
    path = tmp_path / "scan.tiff"
    frames = [sheet((400, 300)), sheet((300, 400)), sheet((400, 300), "RGB")]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(100, 100))
    doc = open_image_document(path)
    assert doc.page_count == 3
    assert [round(p.rect.width) for p in doc] == [288, 216, 288]


def test_transparent_and_palette_images_flatten_on_white(tmp_path: Path) -> None:
    path = tmp_path / "alpha.webp"
    Image.new("RGBA", (50, 50), (0, 0, 0, 0)).save(path)
    pix = open_image_document(path)[0].get_pixmap(colorspace="gray")
    assert min(pix.samples) > 200
    pal = tmp_path / "pal.png"
    sheet().convert("P").save(pal)
    assert open_image_document(pal).page_count == 1


def test_pixel_cap_names_file_and_frame(tmp_path: Path) -> None:
    path = tmp_path / "big.tiff"
    sheet((200, 200)).save(path, save_all=True, append_images=[sheet((2000, 2000))])
    with pytest.raises(InputError) as err:
        open_image_document(path, max_pixels=1_000_000)
    msg = str(err.value)
    assert "big.tiff" in msg and "frame 2 of 2" in msg and "megapixels" in msg
    assert open_image_document(path, max_pixels=5_000_000).page_count == 2


def test_unreadable_inputs_raise_input_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        open_image_document(empty)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is not an image at all")
    with pytest.raises(InputError, match="junk.jpg"):
        open_image_document(junk)
    truncated = tmp_path / "cut.png"
    full = tmp_path / "full.png"
    sheet((800, 800)).save(full)
    truncated.write_bytes(full.read_bytes()[:200])
    with pytest.raises(InputError, match="cut.png"):
        open_image_document(truncated)


def _three_frames(path: Path) -> bytes:
    frames = [sheet((300, 200), "RGB") for _ in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return path.read_bytes()


def test_a_bad_frame_fails_that_page_not_the_file(tmp_path: Path) -> None:
    from PIL import Image

    from docpipe.sources.images import frame_error
    from docpipe.sources.pdf import page_damage

    path = tmp_path / "scan.tiff"
    data = bytearray(_three_frames(path))
    with Image.open(path) as img:
        img.seek(1)
        start = img.tag_v2[273][0]  # frame 2's compressed strip
    data[start : start + 16] = b"\xab" * 16
    path.write_bytes(bytes(data))
    doc = open_image_document(path)
    assert doc.page_count == 3
    errors = [frame_error(page) for page in doc]
    assert errors[0] is None and errors[2] is None
    assert errors[1].startswith("cannot decode frame 2 of 3")
    assert page_damage(doc[1]) == ("failed", errors[1])
    assert page_damage(doc[0]) is None


def test_a_truncated_tiff_keeps_the_frames_before_the_cut(tmp_path: Path) -> None:
    from docpipe.sources.images import frame_error

    full = tmp_path / "full.tiff"
    frames = [sheet((300, 200), "RGB") for _ in range(3)]
    frames[0].save(full, save_all=True, append_images=frames[1:])  # uncompressed: IFDs after the data
    data = full.read_bytes()
    cut = tmp_path / "cut.tiff"
    for keep in (len(data) // 2, len(data) - 100, 1500):
        cut.write_bytes(data[:keep])
        try:
            doc = open_image_document(cut)
        except InputError as exc:  # nothing readable at all: one clear error, never a TypeError
            assert "cut.tiff" in str(exc)
            continue
        errors = [frame_error(page) for page in doc]
        assert errors[0] is None
        assert any(errors), errors
        assert all("frame" in e for e in errors if e)


def test_frames_above_the_raster_cap_are_embedded_reduced_at_the_same_page_size(tmp_path: Path) -> None:
    path = tmp_path / "poster.png"
    sheet((4000, 3000)).save(path)
    doc = open_image_document(path, max_embed_pixels=2_000_000)
    page = doc[0]
    assert (round(page.rect.width), round(page.rect.height)) == (4000, 3000)
    (info,) = page.get_images(full=True)
    width, height = info[2], info[3]
    assert width * height <= 2_000_000 and (width, height) == (1334, 1000)  # 1/3, rounded up
    small = open_image_document(path)  # under the cap: the file's own pixels
    assert small[0].get_images(full=True)[0][2:4] == (4000, 3000)
