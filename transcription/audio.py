"""Decoding any audio or video PyAV reads, as a stream of bounded windows.

faster-whisper's ``decode_audio`` holds the whole file in memory (a 3-hour council session
is 700 MB of float32 at 16 kHz, plus the features); we decode window by window instead and
cut each window at its quietest point near the end, so no word is split and memory stays flat.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from transcription.errors import AudioCorruptError, AudioMissingError, NoAudioStreamError

SAMPLE_RATE = 16000
MAX_CHANNELS = 8


@dataclass
class AudioProbe:
    seconds: float  # from the container; 0.0 when unknown
    channels: int
    codec: str


@dataclass
class AudioWindow:
    offset: float  # seconds from the start of the file
    mono: np.ndarray  # float32, 16 kHz
    channels: np.ndarray | None  # (n_channels, samples) when the file has several channels


def _open(path: Path):  # noqa: ANN202
    if not path.is_file():
        raise AudioMissingError(
            f"audio file not found: {path}; check the path",
            f"音声ファイルが見つかりません（{path.name}）。ファイルの場所を確認してください。",
            path=str(path),
        )
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise AudioCorruptError(
            f"{path.name} is not a readable audio or video file ({type(e).__name__}); re-export it as WAV, MP3 or M4A and try again",
            f"{path.name} は音声ファイルとして読み取れません（破損または未対応の形式）。WAV・MP3・M4A などで保存し直して再投入してください。",
            path=str(path),
        ) from e
    if not container.streams.audio:
        container.close()
        raise NoAudioStreamError(
            f"{path.name} has no audio track; give a recording with sound",
            f"{path.name} に音声トラックがありません。音声を含む録音ファイルを投入してください。",
            path=str(path),
        )
    return container


def probe(path: Path) -> AudioProbe:
    with _open(Path(path)) as container:
        stream = container.streams.audio[0]
        seconds = 0.0
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration:
            seconds = container.duration / 1_000_000
        channels = stream.codec_context.channels or 1
        return AudioProbe(seconds=seconds, channels=channels, codec=stream.codec_context.name)


def _frames(path: Path, keep_channels: bool) -> Iterator[np.ndarray]:
    """Yield (channels, samples) float32 blocks at 16 kHz."""
    container = _open(path)
    decoded_any = False
    try:
        stream = container.streams.audio[0]
        n = min(stream.codec_context.channels or 1, MAX_CHANNELS)
        layout = "mono" if not keep_channels or n == 1 else ("stereo" if n == 2 else f"{n}c" if n != 6 else "5.1")
        try:
            resampler = av.audio.resampler.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        except (ValueError, av.error.FFmpegError):
            resampler = av.audio.resampler.AudioResampler(format="fltp", layout="mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                frame.pts = None  # ignore broken timestamps; we count samples ourselves
                for out in resampler.resample(frame):
                    decoded_any = True
                    yield out.to_ndarray().astype(np.float32, copy=False)
            for out in resampler.resample(None):
                decoded_any = True
                yield out.to_ndarray().astype(np.float32, copy=False)
        except av.error.InvalidDataError:
            # A damaged tail: keep what decoded (nothing is invented), report an empty decode below.
            pass
        except av.error.FFmpegError as e:
            raise AudioCorruptError(
                f"{path.name} could not be decoded ({type(e).__name__}: {e}); re-export the recording and try again",
                f"{path.name} の音声を復号できません（ファイルが破損している可能性があります）。録音を書き出し直して再投入してください。",
                path=str(path),
            ) from e
    finally:
        container.close()
    if not decoded_any:
        raise AudioCorruptError(
            f"{path.name} contains no decodable audio; re-export the recording and try again",
            f"{path.name} に再生できる音声が含まれていません。録音を書き出し直して再投入してください。",
            path=str(path),
        )


def _quiet_cut(block: np.ndarray, search: int, hop: int = 160) -> int:
    """Index in the last *search* samples of *block* with the lowest 10 ms energy."""
    start = max(0, block.shape[-1] - search)
    tail = block[..., start:]
    mono = tail if tail.ndim == 1 else tail.mean(axis=0)
    usable = (mono.shape[0] // hop) * hop
    if usable == 0:
        return block.shape[-1]
    energy = (mono[:usable].reshape(-1, hop) ** 2).mean(axis=1)
    return start + int(np.argmin(energy)) * hop


def iter_windows(path: Path, window_seconds: float = 600.0, *, keep_channels: bool = False,
                 search_seconds: float = 10.0) -> Iterator[AudioWindow]:
    """Stream the file as windows of about *window_seconds*, each cut at a quiet point."""
    path = Path(path)
    target = int(window_seconds * SAMPLE_RATE)
    search = int(search_seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    pending_len = 0
    offset = 0
    for block in _frames(path, keep_channels):
        pending.append(block)
        pending_len += block.shape[-1]
        if pending_len >= target + search:
            buf = np.concatenate(pending, axis=-1)
            cut = _quiet_cut(buf[..., : target + search], search * 2)
            yield _window(offset, buf[..., :cut])
            offset += cut
            rest = buf[..., cut:]
            pending, pending_len = [rest], rest.shape[-1]
    if pending_len:
        yield _window(offset, np.concatenate(pending, axis=-1))


def _window(offset_samples: int, block: np.ndarray) -> AudioWindow:
    if block.shape[0] == 1:
        return AudioWindow(offset_samples / SAMPLE_RATE, np.ascontiguousarray(block[0]), None)
    return AudioWindow(offset_samples / SAMPLE_RATE, np.ascontiguousarray(block.mean(axis=0)), block)


def load_mono(path: Path) -> np.ndarray:
    """The whole file as mono float32 16 kHz (for short clips: evaluation, conditions)."""
    return np.concatenate([w.mono for w in iter_windows(Path(path), 1e9)])
