"""Controlled degradations of clean speech for the adoption-condition benchmark.

Each function takes mono float32 16 kHz audio and returns audio of the same length; all are
deterministic (seeded) so a municipality's runs are comparable month to month.
"""
from __future__ import annotations

import io

import av
import numpy as np

from transcription.audio import SAMPLE_RATE


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-12))


def speech_rms(x: np.ndarray, frame: int = 400) -> float:
    """RMS over the louder half of 25 ms frames: SNR refers to speech, not to its pauses."""
    n = len(x) // frame
    if n == 0:
        return _rms(x)
    e = np.sqrt((x[: n * frame].reshape(n, frame).astype(np.float64) ** 2).mean(axis=1))
    loud = np.sort(e)[n // 2:]
    return float(np.sqrt(np.mean(loud ** 2)) + 1e-12)


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    noise = np.resize(noise, len(speech))
    gain = speech_rms(speech) / (_rms(noise) * 10 ** (snr_db / 20))
    out = speech + gain * noise
    peak = np.max(np.abs(out))
    return (out / peak * 0.95 if peak > 0.99 else out).astype(np.float32)


def white_noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def babble(n: int, voices: list[np.ndarray], talkers: int = 6, seed: int = 0) -> np.ndarray:
    """Cafeteria-like babble from other speech: several time-reversed, shifted voices summed.
    Reversal keeps the spectrum and rhythm of speech but no words the recogniser could pick up."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, np.float32)
    for i in range(talkers):
        v = voices[i % len(voices)][::-1]
        v = np.resize(v, n + len(v))
        start = int(rng.integers(0, len(v) - n + 1))
        seg = v[start:start + n]
        out += seg / (_rms(seg) + 1e-9)
    return out


def room_hum(n: int, mains_hz: float = 50.0, seed: int = 0) -> np.ndarray:
    """Mains hum (50 Hz in eastern Japan, 60 Hz in the west) with harmonics, plus air-conditioner rumble."""
    t = np.arange(n) / SAMPLE_RATE
    hum = sum(np.sin(2 * np.pi * mains_hz * k * t) / k for k in (1, 2, 3, 4, 5))
    rumble = np.cumsum(np.random.default_rng(seed).standard_normal(n))  # brown noise
    rumble -= np.convolve(rumble, np.ones(801) / 801, mode="same")  # remove DC drift
    return (hum / _rms(hum) + 0.5 * rumble / (_rms(rumble) + 1e-9)).astype(np.float32)


def _fft_convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    n = len(x) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]
    return y.astype(np.float32)


def far_field(x: np.ndarray, rt60: float = 0.7, drr_db: float = -3.0, seed: int = 0) -> np.ndarray:
    """A speaker several metres from a table microphone: exponentially decaying random room
    response (RT60), direct sound weaker than the reverberation (DRR), plus a little room noise."""
    rng = np.random.default_rng(seed)
    length = int(rt60 * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    tail = rng.standard_normal(length) * np.exp(-6.9 * t / rt60)
    tail[: int(0.005 * SAMPLE_RATE)] = 0  # first reflections arrive after ~5 ms
    tail *= 10 ** (-drr_db / 20) / (np.sqrt(np.sum(tail ** 2)) + 1e-12)
    h = tail.astype(np.float32)
    h[0] = 1.0
    y = _fft_convolve(x, h)
    y *= speech_rms(x) / speech_rms(y)
    return mix_at_snr(y, white_noise(len(y), seed + 1), 30.0)


def telephone(x: np.ndarray) -> np.ndarray:
    """Fixed-line telephone: 300–3400 Hz band, 8 kHz sampling, 8-bit μ-law."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    spec[(f < 300) | (f > 3400)] = 0
    y = np.fft.irfft(spec, len(x))
    y8 = y[::2]  # already band-limited below 4 kHz, so plain decimation does not alias
    peak = np.max(np.abs(y8)) or 1.0
    v = y8 / peak
    mu = 255.0
    q = np.round(np.sign(v) * np.log1p(mu * np.abs(v)) / np.log1p(mu) * 127) / 127
    v = np.sign(q) * ((1 + mu) ** np.abs(q) - 1) / mu
    return (np.repeat(v, 2)[: len(x)] * peak).astype(np.float32)


def low_bitrate(x: np.ndarray, kbps: int = 16, codec: str = "mp3") -> np.ndarray:
    """Encode with a lossy codec at a low bit rate (as a cheap voice recorder does) and decode back."""
    buf = io.BytesIO()
    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)
    with av.open(buf, "w", format=codec) as out:
        stream = out.add_stream("libmp3lame" if codec == "mp3" else codec, rate=SAMPLE_RATE)
        stream.bit_rate = kbps * 1000
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    chunks = []
    with av.open(buf, "r") as inp:
        resampler = av.audio.resampler.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for fr in inp.decode(audio=0):
            for o in resampler.resample(fr):
                chunks.append(o.to_ndarray().reshape(-1))
    y = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    y = np.resize(y, len(x)) if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))
    return y.astype(np.float32)
