"""Fixtures for the transcription tests: the real offline model, loaded once per session."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED

JA_REF = "これはテスト文ですこの機械が日本語をちゃんと聞き取れているかどうかを計ります"
EN_REF = ("CUTTING EDGE LLMS EMPLOY TRANSFORMER ARCHITECTURES TO CAPTURE THE LONG RANGE DEPENDENCIES IN TEXT "
          "WHICH ALLOWS THEM TO GENERATE MORE CONTEXTUALLY AWARE AND GRAMMATICALLY CONSISTENT OUTPUTS")
JFK_REF = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


@pytest.fixture(scope="session")
def transcriber():  # noqa: ANN201
    """The default pipeline with the real offline base weights (skips if they are not installed)."""
    from transcription import ModelError, Transcriber

    try:
        return Transcriber()
    except ModelError as e:
        pytest.skip(f"offline Whisper weights not installed: {e}")


@pytest.fixture
def audio_dir(shared_dir: Path) -> Path:
    return shared_dir / "audio"


@pytest.fixture(scope="session")
def ja_clip() -> np.ndarray:
    if not (SHARED / "audio" / "ja_read_test.wav").is_file():
        pytest.skip("../shared/audio/ja_read_test.wav is absent")
    from transcription.audio import load_mono

    return load_mono(SHARED / "audio" / "ja_read_test.wav")
