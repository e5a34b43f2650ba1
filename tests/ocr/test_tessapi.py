"""The in-process Tesseract engine: same words as the command line, safe on threads, clear errors."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr import engine as engine_mod
from ocr import tessapi
from ocr.engine import TesseractEngine, make_engine
from ocr.errors import EngineError
from ocr.generate import PRINT_FONT, random_record, render

pytestmark = pytest.mark.skipif(not tessapi.available(), reason="libtesseract.so.5 cannot be loaded")

DIGITS = "0123456789-"


def _text_image(lines: list[str], size: int = 44, scale: float = 1.0) -> np.ndarray:
    font = ImageFont.truetype(str(PRINT_FONT), size)
    img = Image.new("L", (60 + size * max(len(s) for s in lines), 60 + int(size * 1.8) * len(lines)), 255)
    d = ImageDraw.Draw(img)
    for i, s in enumerate(lines):
        d.text((30, 30 + int(size * 1.8) * i), s, font=font, fill=0)
    out = np.asarray(img)
    if scale != 1.0:
        out = np.asarray(img.resize((int(img.width * scale), int(img.height * scale))))
    return np.ascontiguousarray(out)


PAGE = _text_image(["受給者氏名　長野 太郎", "住所 長野県松本市中央1丁目", "個人番号 1234 5678 9012"])
CODE = _text_image(["0263-12-3456"], size=40)

CALLS = [
    (PAGE, dict(lang="jpn", psm=6, dpi=300)),
    (PAGE, dict(lang="jpn", psm=11, dpi=150)),  # the layout pass's setting
    (CODE, dict(lang="eng", psm=8, dpi=300, whitelist=DIGITS, dictionaries=False)),
    (PAGE, dict(lang="jpn", psm=6, dpi=300, whitelist="令和平成昭大正元年月日0123456789", dictionaries=False)),
]


@pytest.fixture(scope="module")
def api() -> tessapi.TessApiEngine:
    return tessapi.TessApiEngine()


@pytest.fixture(scope="module")
def cli_words() -> list:
    cli = TesseractEngine()
    return [cli.words(img, **kw) for img, kw in CALLS]


def test_same_words_boxes_and_confidences_as_the_command_line(api, cli_words):
    for (img, kw), want in zip(CALLS, cli_words):
        got = api.words(img, **kw)
        assert got == want, kw
    assert any("長野" in w.text for w in cli_words[0])
    code = "".join(w.text for w in cli_words[2])
    assert code and set(code) <= set(DIGITS)  # the whitelist held


def test_settings_of_one_call_never_leak_into_the_next(api, cli_words):
    # Interleave settings in another order on the same objects: each result stays the command line's.
    for i in (3, 0, 2, 1, 0, 3):
        img, kw = CALLS[i]
        assert api.words(img, **kw) == cli_words[i], kw


def test_worker_threads_get_their_own_api_objects_and_the_same_words(api, cli_words):
    results: dict[int, list] = {}
    objects: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            out = []
            for _ in range(2):
                for img, kw in CALLS:
                    out.append(api.words(img, **kw))
            results[n] = out
            objects[n] = api._api("jpn", None, True)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for out in results.values():
        assert out == cli_words + cli_words
    assert len({id(o) for o in objects.values()}) == 3


def test_real_dpi_reaches_tesseract(api):
    # A form's top third at half resolution, as the layout pass sees it: told the wrong
    # resolution Tesseract loses the small print; at each resolution both engines agree.
    form = np.asarray(render(random_record(random.Random(1)), "a", random.Random(1)).convert("L"))
    small = cv2.resize(form[300:1300], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    cli = TesseractEngine()
    texts = {}
    for dpi in (70, 150):
        got = api.words(small, lang="jpn", psm=11, dpi=dpi)
        assert got == cli.words(small, lang="jpn", psm=11, dpi=dpi), dpi
        texts[dpi] = "".join(w.text for w in got)
    assert "提出日" in texts[150] and "受給者氏名" in texts[150]
    assert texts[70] != texts[150]


def test_bad_images_give_typed_errors_or_nothing(api):
    with pytest.raises(EngineError, match="8-bit"):
        api.words(PAGE.astype(np.float32), lang="jpn", psm=6, dpi=300)
    with pytest.raises(EngineError, match="shape"):
        api.words(np.zeros((10, 10, 2), np.uint8), lang="jpn", psm=6, dpi=300)
    assert api.words(np.full((2, 2), 255, np.uint8), lang="jpn", psm=6, dpi=300) == []
    assert api.words(np.full((300, 300), 255, np.uint8), lang="jpn", psm=6, dpi=300) == []
    colour = np.dstack([PAGE] * 3)
    assert [w.text for w in api.words(colour, lang="jpn", psm=6, dpi=300)] == [w.text for w in api.words(PAGE, lang="jpn", psm=6, dpi=300)]


def test_unknown_language_is_a_clear_error():
    with pytest.raises(EngineError, match="tesseract-ocr-xx"):
        tessapi.TessApiEngine().words(PAGE, lang="xx", psm=6, dpi=300)


def test_deadline_is_a_timeout_error():
    big = np.ascontiguousarray(np.tile(PAGE, (6, 2)))
    eng = tessapi.TessApiEngine(timeout_s=0.001)
    with pytest.raises(EngineError, match="timed out"):
        eng.words(big, lang="jpn", psm=6, dpi=300)


def test_engine_choice_and_fallback_to_processes(monkeypatch):
    monkeypatch.delenv(engine_mod.ENGINE_ENV, raising=False)
    assert isinstance(make_engine(), tessapi.TessApiEngine)
    assert isinstance(make_engine("cli"), TesseractEngine)
    monkeypatch.setenv(engine_mod.ENGINE_ENV, "cli")
    assert isinstance(make_engine(), TesseractEngine)
    assert engine_mod.engine_status()[0] == "cli"
    with pytest.raises(EngineError, match="unknown OCR engine"):
        make_engine("gpu")
    # A machine without the library: the pipeline falls back to one process per call.
    monkeypatch.delenv(engine_mod.ENGINE_ENV)
    monkeypatch.setattr(tessapi, "LIBRARY", "/nonexistent/libtesseract.so.5")
    monkeypatch.setattr(tessapi, "_lib", None)
    monkeypatch.setattr(tessapi, "_lib_error", None)
    assert not tessapi.available()
    assert isinstance(make_engine(), TesseractEngine)
    name, line = engine_mod.engine_status()
    assert name == "cli" and "nonexistent" in line
    with pytest.raises(EngineError, match="cannot be used"):
        make_engine("api")


def test_ocr_on_worker_threads_leaves_transcription_in_the_same_process_intact():
    """Regression: the engine once set OMP_THREAD_LIMIT=1 in the environment while worker threads
    initialised Tesseract; CTranslate2 then loaded with that limit and transcribed garbage ('')."""
    from tests.conftest import SHARED

    wav = SHARED / "audio" / "ja_read_test.wav"
    if not wav.is_file():
        pytest.skip("../shared/audio/ja_read_test.wav is absent")
    code = (
        "import os, threading, numpy as np\n"
        "from ocr.engine import make_engine\n"
        "e = make_engine('api'); img = np.full((60, 200), 255, np.uint8)\n"
        "work = lambda: [e.words(img, lang=l, psm=7, dpi=300) for l in ('jpn', 'eng', 'jpn')]\n"
        "ts = [threading.Thread(target=work) for _ in range(3)]; [t.start() for t in ts]; [t.join() for t in ts]\n"
        "assert 'OMP_THREAD_LIMIT' not in os.environ, os.environ['OMP_THREAD_LIMIT']\n"
        "from transcription import ModelError, Transcriber\n"
        "try: t = Transcriber()\n"
        "except ModelError: print('NO MODEL'); raise SystemExit\n"
        f"segs, _ = t.transcribe({str(wav)!r}); print('TEXT', ''.join(s.text for s in segs))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_THREAD_LIMIT", engine_mod.ENGINE_ENV)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180, check=True).stdout
    if "NO MODEL" in out:
        pytest.skip("offline Whisper weights not installed")
    assert "テスト" in out and "日本語" in out, out

