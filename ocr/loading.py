"""Load a scan file into greyscale page images (PDF, multi-page TIFF, PNG, JPEG).

Every failure becomes a typed :class:`~ocr.errors.OcrInputError`; nothing else escapes.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.errors import (CorruptFileError, EmptyFileError, EncryptedFileError, OcrInputError, TooLargeError,
                        UnsupportedFormatError)

MAX_PAGES = 200
MAX_PIXELS = 60_000_000  # ~ A3 at 600 dpi; more is a decompression bomb or a mistake
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


@dataclass
class Page:
    image: np.ndarray  # uint8 greyscale
    dpi: int


def load_pages(path: Path, *, dpi: int = 300) -> list[Page]:
    path = Path(path)
    try:
        data_head = path.open("rb").read(8)
    except FileNotFoundError as e:
        raise OcrInputError(f"{path.name}: file not found", "ファイルが見つかりません。") from e
    except OSError as e:
        raise CorruptFileError(f"{path.name}: cannot read file ({e.strerror})") from e
    if path.stat().st_size == 0:
        raise EmptyFileError(f"{path.name}: the file is empty (0 bytes); scan it again")
    if data_head.startswith(b"%PDF") or path.suffix.lower() == ".pdf":
        pages = _load_pdf(path, dpi)
    elif path.suffix.lower() in IMAGE_SUFFIXES or _looks_like_image(data_head):
        pages = _load_image(path, dpi)
    else:
        raise UnsupportedFormatError(f"{path.name}: unsupported file type {path.suffix or '(none)'}; use PDF, TIFF, PNG or JPEG")
    if not pages:
        raise EmptyFileError(f"{path.name}: the file has no pages")
    return pages


def _looks_like_image(head: bytes) -> bool:
    return head.startswith((b"\x89PNG", b"\xff\xd8", b"II*\x00", b"MM\x00*"))


def _load_pdf(path: Path, dpi: int) -> list[Page]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        msg = str(e).lower()
        if "password" in msg:
            raise EncryptedFileError(f"{path.name}: the PDF is password-protected; remove the password and resubmit") from e
        raise CorruptFileError(f"{path.name}: the PDF is damaged and cannot be opened ({e})") from e
    try:
        n = len(pdf)
        if n == 0:
            raise EmptyFileError(f"{path.name}: the PDF has no pages")
        if n > MAX_PAGES:
            raise TooLargeError(f"{path.name}: {n} pages exceed the limit of {MAX_PAGES}; split the file")
        pages = []
        for i in range(n):
            page = pdf[i]
            w_pt, h_pt = page.get_size()
            if (w_pt * dpi / 72) * (h_pt * dpi / 72) > MAX_PIXELS:
                raise TooLargeError(f"{path.name}: page {i + 1} is too large to render at {dpi} dpi")
            try:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                img = np.array(bitmap.to_pil().convert("L"))
            except pdfium.PdfiumError as e:
                raise CorruptFileError(f"{path.name}: page {i + 1} cannot be rendered ({e})") from e
            pages.append(Page(img, dpi))
        return pages
    finally:
        pdf.close()


def _load_image(path: Path, dpi: int) -> list[Page]:
    pages = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                n = getattr(im, "n_frames", 1)
                if n > MAX_PAGES:
                    raise TooLargeError(f"{path.name}: {n} pages exceed the limit of {MAX_PAGES}; split the file")
                for i in range(n):
                    im.seek(i)
                    if im.width * im.height > MAX_PIXELS:
                        raise TooLargeError(f"{path.name}: page {i + 1} has {im.width}x{im.height} pixels, more than the limit")
                    page_dpi = _dpi_of(im, dpi)
                    frame = ImageOps.exif_transpose(im.copy()) if i == 0 else im.copy()
                    pages.append(Page(np.array(_to_grey(frame)), page_dpi))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise TooLargeError(f"{path.name}: image is too large (possible decompression bomb)") from e
    except UnidentifiedImageError as e:
        raise CorruptFileError(f"{path.name}: not a readable image (damaged or wrong extension)") from e
    except OcrInputError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise CorruptFileError(f"{path.name}: the image is damaged and cannot be decoded ({type(e).__name__})") from e
    return pages


def _to_grey(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    if im.mode in ("I;16", "I;16B", "I"):
        arr = np.array(im).astype(np.float32)
        arr = 255 * (arr - arr.min()) / max(1.0, float(arr.max() - arr.min()))
        return Image.fromarray(arr.astype(np.uint8))
    return im.convert("L")


def _dpi_of(im: Image.Image, default: int) -> int:
    """The resolution stored in the file, when plausible; else the caller's default."""
    info = im.info.get("dpi")
    if info:
        try:
            d = int(round(float(info[0])))
            if 100 <= d <= 1200:
                return d
        except (TypeError, ValueError):
            pass
    return default
