"""Loading scans: every format, EXIF orientation, and bad files as typed errors."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr import errors
from ocr.generate import pdf_bytes
from ocr.loading import load_pages


def _img(w=300, h=200, value=255):
    a = np.full((h, w), value, np.uint8)
    a[20:40, 20:200] = 0
    return Image.fromarray(a)


def test_png_jpeg_tiff_multipage_and_pdf(tmp_path: Path):
    _img().save(tmp_path / "a.png", dpi=(200, 200))
    _img().convert("RGB").save(tmp_path / "a.jpg", quality=80)
    _img().save(tmp_path / "a.tif", save_all=True, append_images=[_img(), _img()])
    (tmp_path / "a.pdf").write_bytes(pdf_bytes([_img(), _img(400, 300)], dpi=100))
    assert load_pages(tmp_path / "a.png")[0].dpi == 200
    assert load_pages(tmp_path / "a.jpg")[0].image.shape == (200, 300)
    assert len(load_pages(tmp_path / "a.tif")) == 3
    pages = load_pages(tmp_path / "a.pdf", dpi=150)
    assert len(pages) == 2 and pages[0].dpi == 150
    assert abs(pages[1].image.shape[0] - 450) <= 1 and abs(pages[1].image.shape[1] - 600) <= 1  # 100 -> 150 dpi


def test_exif_orientation_is_applied(tmp_path: Path):
    img = _img().convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_pages(tmp_path / "r.jpg")[0].image.shape == (300, 200)


def test_empty_corrupt_unsupported(tmp_path: Path):
    (tmp_path / "e.pdf").write_bytes(b"")
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4\n garbage garbage")
    (tmp_path / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    (tmp_path / "t.png").write_bytes((tmp_path / "c.png").read_bytes()[:20])
    (tmp_path / "x.docx").write_bytes(b"PK\x03\x04 not a scan")
    with pytest.raises(errors.EmptyFileError):
        load_pages(tmp_path / "e.pdf")
    for name in ("c.pdf", "c.png", "t.png"):
        with pytest.raises(errors.CorruptFileError) as e:
            load_pages(tmp_path / name)
        assert e.value.message_ja and name in str(e.value)
    with pytest.raises(errors.UnsupportedFormatError):
        load_pages(tmp_path / "x.docx")
    with pytest.raises(errors.OcrInputError):
        load_pages(tmp_path / "missing.png")


def test_encrypted_pdf(tmp_path: Path):
    # Standard security handler whose user password is not empty: opening needs a password.
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode() + b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<01> <01>] >>\nstartxref\n{xref}\n%%EOF\n".encode()
    (tmp_path / "enc.pdf").write_bytes(out)
    with pytest.raises(errors.EncryptedFileError) as e:
        load_pages(tmp_path / "enc.pdf")
    assert "パスワード" in e.value.message_ja


def test_decompression_bomb(tmp_path: Path):
    # A valid PNG header that claims 50000 x 50000 pixels: refused before decoding.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(errors.TooLargeError):
        load_pages(tmp_path / "bomb.png")


def test_generated_multi_page_pdfs_keep_every_sheet_a4(tmp_path: Path) -> None:
    # Pages of one PDF share one resolution; a page degraded to 200 dpi used to come out as a
    # sheet two thirds the size of A4 (small print no scanner produces).
    import pypdfium2 as pdfium

    from ocr.generate import generate_set

    generate_set(tmp_path, 12, seed=6060)
    pdfs = sorted(tmp_path.glob("*.pdf"))
    assert pdfs, "seed 6060 makes two-page PDFs (the second: a 300 and a 200 dpi page)"
    for f in pdfs:
        doc = pdfium.PdfDocument(str(f))
        try:
            sizes = [tuple(x / 72 for x in doc[i].get_size()) for i in range(len(doc))]
        finally:
            doc.close()
        for w, h in sizes:  # A4 is 8.27 x 11.69 in; scanned with margins, turned, scaled a little
            assert 7.6 < w < 9.6 and 10.8 < h < 13.0, (f.name, sizes)
