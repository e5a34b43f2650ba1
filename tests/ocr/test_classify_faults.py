"""Mixed batches, unknown pages, and Tesseract failures injected at the engine seam."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr import read_document, tesseract
from ocr.engine import TesseractEngine
from ocr.errors import EngineError
from ocr.generate import PRINT_FONT, pdf_bytes, random_record, render
from ocr.tesseract import Word


def _other_form() -> Image.Image:
    """A different municipal form (住民票の写し交付請求書): printed text and a grid, other labels."""
    img = Image.new("L", (2480, 3508), 255)
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(str(PRINT_FONT), 48)
    d.text((500, 200), "住民票の写し等交付請求書", font=f, fill=0)
    for i, lab in enumerate(["請求日", "窓口に来た人", "必要な方", "使用目的", "必要な通数", "本籍・筆頭者"]):
        y = 420 + i * 160
        d.rectangle([200, y, 700, y + 160], outline=0, width=3)
        d.rectangle([700, y, 2280, y + 160], outline=0, width=3)
        d.text((230, y + 55), lab, font=f, fill=0)
    d.text((200, 1500), "個人情報は請求の目的以外には使用しません。", font=f, fill=0)
    return img


def test_mixed_batch_is_sorted_and_unknown_page_goes_to_review(tmp_path: Path, label_templates, zone_templates):
    ra, rb = random_record(random.Random(1)), random_record(random.Random(2))
    pages = [render(ra, "a", random.Random(1)), _other_form(), render(rb, "b", random.Random(2))]
    (tmp_path / "batch.pdf").write_bytes(pdf_bytes(pages))
    doc = read_document(tmp_path / "batch.pdf", label_templates + zone_templates, dpi=200)
    assert doc.page_count == 3 and len(doc.pages) == 3
    assert [f.template for f in doc.forms] == ["genkyo_todoke", None, "genkyo_todoke"]
    unknown = doc.forms[1]
    assert unknown.status == "needs_review" and "一致しません" in unknown.reasons[0]
    assert doc.forms[0].record()["recipient_number"] == ra["recipient_number"]
    assert doc.forms[2].record()["recipient_number"] == rb["recipient_number"]


def test_zone_template_alone_does_not_claim_the_other_layout(tmp_path: Path, zone_templates):
    render(random_record(random.Random(4)), "b", random.Random(4)).save(tmp_path / "b.png", dpi=(300, 300))
    form = read_document(tmp_path / "b.png", zone_templates).forms[0]
    assert form.template is None and form.status == "needs_review"


class CrashingEngine:
    def words(self, image, **kw):
        raise EngineError("tesseract exited with -9: killed")


class GarbageEngine:
    """Returns confident nonsense for every call: nothing may come out 'ready' with wrong values."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def words(self, image, *, lang, psm, dpi, whitelist=None, dictionaries=True):
        self.calls += 1
        words = self.inner.words(image, lang=lang, psm=psm, dpi=dpi, whitelist=whitelist, dictionaries=dictionaries)
        if self.calls == 1:
            return words  # the layout pass stays real so the page is classified
        rng = random.Random(self.calls)
        return [Word("".join(rng.choice("口一二三十土") for _ in range(3)), 35.0, w.x, w.y, w.w, w.h, w.line) for w in words]


def test_engine_crash_is_a_typed_error(tmp_path: Path, label_templates):
    render(random_record(random.Random(1)), "a").save(tmp_path / "a.png", dpi=(300, 300))
    with pytest.raises(EngineError) as e:
        read_document(tmp_path / "a.png", label_templates, engine=CrashingEngine())
    assert e.value.message_ja


def test_garbage_readings_are_flagged_not_passed_on(tmp_path: Path, label_templates):
    render(random_record(random.Random(1)), "a").save(tmp_path / "a.png", dpi=(300, 300))
    form = read_document(tmp_path / "a.png", label_templates, engine=GarbageEngine(TesseractEngine())).forms[0]
    assert form.status == "needs_review"
    for name in ("recipient_number", "my_number", "recipient_name", "submission_date", "phone"):
        assert form.fields[name].doubtful, name


def test_tesseract_wrapper_timeout_and_missing_binary(monkeypatch):
    img = np.full((200, 800), 255, np.uint8)
    with pytest.raises(EngineError, match="timed out"):
        tesseract.image_to_words(img, lang="jpn", timeout_s=0.001)
    monkeypatch.setattr(tesseract, "TESSERACT", "/nonexistent/tesseract")
    with pytest.raises(EngineError, match="not found"):
        tesseract.image_to_words(img)
