"""Building test and benchmark audio from real clips: concatenation with pauses (long files)."""
from __future__ import annotations

import wave
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from transcription.audio import SAMPLE_RATE, load_mono


def write_wav(path: Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """16-bit PCM WAV (mono, or (channels, samples) for multichannel)."""
    data = np.clip(np.atleast_2d(audio), -1.0, 1.0)
    pcm = (data.T * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def concat_stream(path: Path, clips: Sequence[np.ndarray], total_seconds: float, gaps: Iterable[float]) -> float:
    """Write clips (cycled) with the given pauses until *total_seconds*, streaming to disk so
    building an hour-long file needs no hour of memory; returns the length written."""
    written = 0
    limit = int(total_seconds * SAMPLE_RATE)
    gaps = iter(gaps)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        i = 0
        while written < limit:
            clip = clips[i % len(clips)]
            silence = np.zeros(int(next(gaps, 1.0) * SAMPLE_RATE), dtype=np.float32)
            block = np.concatenate([clip, silence])[: limit - written]
            w.writeframes((np.clip(block, -1, 1) * 32767).astype("<i2").tobytes())
            written += len(block)
            i += 1
    return written / SAMPLE_RATE


def load_clips(paths: Sequence[Path]) -> list[np.ndarray]:
    return [load_mono(Path(p)) for p in paths]
