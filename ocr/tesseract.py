"""The one module that runs the ``tesseract`` executable.

It owns the arguments, the environment and the timeouts, so the rest of the engine
never builds a command line. Why these choices:

* ``OMP_THREAD_LIMIT=1``: Tesseract's OpenMP threads fight each other and our own
  workers; single-threaded calls run several times faster per core here.
* ``--dpi`` is always passed: without it Tesseract assumes 70 dpi for images with no
  resolution and drops whole lines of small print.
* the image goes through stdin as PNG and TSV comes back on stdout: no temp files.
* :data:`VARIABLES` are the settings every call gets, here and in :mod:`ocr.tessapi`
  (the in-process engine), so both engines give the same words.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

import cv2
import numpy as np

from ocr import models
from ocr.errors import EngineError

TESSERACT = os.environ.get("KYODO_TESSERACT", "tesseract")
DEFAULT_TIMEOUT_S = 60.0

# Tesseract re-reads every doubtful line inverted (white on black) to see whether that
# reads better. Our pages are binarised black ink on white before reading, so the
# second try never wins here and costs ~20% of the time of a page.
VARIABLES: dict[str, str] = {"tessedit_do_invert": "0"}


def call_variables(whitelist: str | None, dictionaries: bool) -> dict[str, str]:
    """The ``-c`` settings of one call: :data:`VARIABLES`, the whitelist, the dictionaries."""
    out = dict(VARIABLES)
    if whitelist:
        out["tessedit_char_whitelist"] = whitelist
    if not dictionaries:
        # Codes and numbers are not words: the dictionary only pulls them towards words.
        out["load_system_dawg"] = "0"
        out["load_freq_dawg"] = "0"
    return out


@dataclass(frozen=True)
class Word:
    text: str
    conf: float  # 0..100 as Tesseract reports it
    x: int
    y: int
    w: int
    h: int
    line: tuple[int, int, int]  # (block, paragraph, line): words of one line share it

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def available() -> bool:
    return shutil.which(TESSERACT) is not None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def image_to_words(image: np.ndarray, *, lang: str = "jpn", psm: int = 6, dpi: int = 300,
                   whitelist: str | None = None, dictionaries: bool = True,
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Word]:
    """Run Tesseract once on ``image`` and return its words with boxes and confidences."""
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise EngineError("could not encode image for tesseract")
    args = [TESSERACT, "stdin", "stdout", "-l", lang, "--psm", str(psm), "--dpi", str(int(dpi))]
    if (datapath := models.datapath_for(lang)) is not None:
        args += ["--tessdata-dir", str(datapath)]
    for name, value in call_variables(whitelist, dictionaries).items():
        args += ["-c", f"{name}={value}"]
    args.append("tsv")  # a config file, looked up in the model's folder (ocr.models puts one beside jpn_full)
    try:
        proc = subprocess.run(args, input=png.tobytes(), capture_output=True, timeout=timeout_s, env=_env(), check=False)
    except FileNotFoundError as e:
        raise EngineError(f"tesseract executable not found ({TESSERACT}); install tesseract-ocr and tesseract-ocr-jpn") from e
    except subprocess.TimeoutExpired as e:
        raise EngineError(f"tesseract timed out after {timeout_s:.0f}s") from e
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise EngineError(f"tesseract exited with {proc.returncode}: {tail[0][:200]}")
    return parse_tsv(proc.stdout.decode("utf-8", "replace"))


def parse_tsv(tsv: str) -> list[Word]:
    words = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        words.append(Word(text=text, conf=float(cols[10]), x=int(cols[6]), y=int(cols[7]), w=int(cols[8]), h=int(cols[9]),
                          line=(int(cols[2]), int(cols[3]), int(cols[4]))))
    return words


def image_to_string(image: np.ndarray, *, lang: str = "jpn", psm: int = 3, dpi: int = 300, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Plain text (used by the naive baseline in the benchmark)."""
    ok, png = cv2.imencode(".png", image)
    args = [TESSERACT, "stdin", "stdout", "-l", lang, "--psm", str(psm), "--dpi", str(int(dpi))]
    if (datapath := models.datapath_for(lang)) is not None:
        args += ["--tessdata-dir", str(datapath)]
    try:
        proc = subprocess.run(args, input=png.tobytes(), capture_output=True, timeout=timeout_s, env=_env(), check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired) as e:
        raise EngineError(f"tesseract failed: {type(e).__name__}") from e
    if proc.returncode != 0:
        raise EngineError(f"tesseract exited with {proc.returncode}")
    return proc.stdout.decode("utf-8", "replace")
