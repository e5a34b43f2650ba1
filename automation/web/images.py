"""Page images of an OCR'd document and field crops for the review screen."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image

from ocr.results import Box
from tenants.config import TenantConfig

CROP_PAD = 12  # pixels around a field box, so a clerk sees a cut-off stroke
MAX_CROP_WIDTH = 900


def page_path(tenant: TenantConfig, data_root: Path, document_id: int, page: int) -> Path:
    """``work/doc-<id>/page-<n>.png`` (n 1-based), the runner's contract."""
    return tenant.folder_paths(data_root)["work"] / f"doc-{document_id}" / f"page-{page}.png"


@lru_cache(maxsize=256)
def _size(path: str, mtime: float) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def image_size(path: Path) -> tuple[int, int] | None:
    try:
        return _size(str(path), path.stat().st_mtime)
    except (OSError, ValueError):
        return None


def crop_png(path: Path, box: Box) -> bytes:
    """The box (plus a margin) cut from the page image, as PNG bytes."""
    with Image.open(path) as im:
        left, top = max(0, box.x - CROP_PAD), max(0, box.y - CROP_PAD)
        right, bottom = min(im.width, box.x + box.w + CROP_PAD), min(im.height, box.y + box.h + CROP_PAD)
        if right <= left or bottom <= top:
            raise ValueError("box outside the page")
        crop = im.crop((left, top, right, bottom))
        if crop.width > MAX_CROP_WIDTH:
            crop = crop.resize((MAX_CROP_WIDTH, max(1, round(crop.height * MAX_CROP_WIDTH / crop.width))))
        if crop.mode not in ("L", "RGB"):
            crop = crop.convert("RGB")
        buf = io.BytesIO()
        crop.save(buf, format="PNG", optimize=False)
        return buf.getvalue()
