"""Transcription benchmark: Kyodo's pipeline against bare sequential faster-whisper.

Baseline (named, same run, same model): ``faster_whisper.WhisperModel.transcribe`` with beam 5
and ``vad_filter=True`` (its defaults otherwise), segments consumed one by one.
Pipeline: ``transcription.Transcriber`` with its default ``TranscribeOptions``.

Audio: real clips from ../shared/audio concatenated with pauses (Japanese: ja_read_test.wav at
five speaking rates via sox tempo, ~3.8 min; English: en_read_test.wav + jfk.flac, ~2 min).
Then RTF and peak RSS on long files (same clips with pauses), each in a fresh process, to show
memory is flat as length grows. Run: flock /tmp/kyodo-bench.lock .venv/bin/python bench/asr_bench.py
Options: --explore (try other configurations), --long 600,1800,3600 (seconds), --no-long, --long-only.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
SHARED = PROJECT.parent / "shared" / "audio"
JA_REF = "これはテスト文ですこの機械が日本語をちゃんと聞き取れているかどうかを計ります"
EN_REF = ("CUTTING EDGE LLMS EMPLOY TRANSFORMER ARCHITECTURES TO CAPTURE THE LONG RANGE DEPENDENCIES IN TEXT "
          "WHICH ALLOWS THEM TO GENERATE MORE CONTEXTUALLY AWARE AND GRAMMATICALLY CONSISTENT OUTPUTS")
JFK_REF = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
GAPS = [0.4, 1.5, 3.0, 0.8, 6.0, 1.0, 2.2]


def _sox_tempo(src: Path, dst: Path, tempo: float) -> Path:
    subprocess.run(["sox", str(src), "-r", "16000", "-c", "1", str(dst), "tempo", "-s", str(tempo)], check=True)
    return dst


def build_sets(tmp: Path) -> dict[str, tuple[Path, str, str]]:
    from transcription.audio import SAMPLE_RATE, load_mono
    from transcription.synth import write_wav

    ja_clips = [load_mono(_sox_tempo(SHARED / "ja_read_test.wav", tmp / f"ja_{t}.wav", t)) for t in (0.9, 1.0, 1.1, 0.95, 1.05)]
    en_clips = [load_mono(SHARED / "en_read_test.wav"), load_mono(SHARED / "jfk.flac")]
    sets = {}
    for name, clips, refs, n, lang in (("ja", ja_clips, [JA_REF] * 5, 20, "ja"), ("en", en_clips, [EN_REF, JFK_REF], 10, "en")):
        parts, text = [], []
        for i in range(n):
            parts += [clips[i % len(clips)], np.zeros(int(GAPS[i % len(GAPS)] * SAMPLE_RATE), np.float32)]
            text.append(refs[i % len(refs)])
        path = write_wav(tmp / f"{name}_long.wav", np.concatenate(parts))
        sets[name] = (path, lang, " ".join(text))
    return sets


def build_hard(tmp: Path) -> tuple[Path, float]:
    """Japanese, English, 10 s silence, 8 s of chords (music), 5 s loud noise; returns the time
    after which nobody speaks (any unflagged text there is invented)."""
    from transcription.audio import SAMPLE_RATE, load_mono
    from transcription.synth import write_wav

    ja, en = load_mono(SHARED / "ja_read_test.wav"), load_mono(SHARED / "jfk.flac")
    t = np.arange(8 * SAMPLE_RATE) / SAMPLE_RATE
    chords = sum(np.sin(2 * np.pi * f * t) * (1 + np.sin(np.pi * t)) for f in (261.6, 329.6, 392.0, 523.2)) * 0.05
    noise = 0.2 * np.random.default_rng(2).standard_normal(5 * SAMPLE_RATE)
    path = write_wav(tmp / "hard.wav", np.concatenate([ja, en, np.zeros(10 * SAMPLE_RATE), chords, noise]).astype(np.float32))
    return path, (len(ja) + len(en)) / SAMPLE_RATE


def hard_audio(model, tmp: Path) -> None:  # noqa: ANN001
    """Bare (faster-whisper defaults: temperature fallback, beam 5, VAD) vs pipeline on hard audio."""
    from transcription import Transcriber

    path, speech_end = build_hard(tmp)
    secs = float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True).stdout)
    t = time.perf_counter()
    segs, _ = model.transcribe(str(path), language="ja", beam_size=5, vad_filter=True)
    segs = list(segs)
    bare_wall = time.perf_counter() - t
    bare_inv = [s.text for s in segs if (s.start + s.end) / 2 > speech_end + 0.5]
    t = time.perf_counter()
    ours_segs = list(Transcriber().transcribe(path)[0])
    wall = time.perf_counter() - t
    inv = [s.text for s in ours_segs if (s.start + s.end) / 2 > speech_end + 0.5 and not s.flagged]
    flagged = sum(1 for s in ours_segs if s.flagged)
    print(f"hard {secs:5.1f}s (ja+en, silence, music, noise)  bare RTF {bare_wall / secs:.3f}, {len(bare_inv)} segment(s) "
          f"in non-speech {bare_inv[:2]}  |  kyodo RTF {wall / secs:.3f}, {len(inv)} unflagged in non-speech, {flagged} flagged", flush=True)


def bare(model, path: Path, lang: str) -> tuple[str, float]:  # noqa: ANN001
    t = time.perf_counter()
    segs, _ = model.transcribe(str(path), language=lang, beam_size=5, vad_filter=True)
    text = " ".join(s.text for s in segs)
    return text, time.perf_counter() - t


def upstream_batched(model, path: Path, lang: str, **kw) -> tuple[str, float]:  # noqa: ANN001
    from faster_whisper import BatchedInferencePipeline

    t = time.perf_counter()
    segs, _ = BatchedInferencePipeline(model).transcribe(str(path), language=lang, **kw)
    text = " ".join(s.text for s in segs)
    return text, time.perf_counter() - t


def ours(path: Path, lang: str, **kw) -> tuple[str, float]:
    from transcription import TranscribeOptions, Transcriber

    opts = TranscribeOptions(language=lang, **kw)
    t = time.perf_counter()
    segs, _ = Transcriber(opts).transcribe(path)
    text = " ".join(s.text for s in segs)
    return text, time.perf_counter() - t


def _rss_mb() -> float:
    """Current resident set size (not the peak), from /proc."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def long_child(seconds: float) -> None:
    """Child process: build a long file, transcribe it streaming, print RTF and peak RSS, plus the
    peak so far at every 15 minutes of audio (flat memory means these stop growing)."""
    from transcription import Transcriber
    from transcription.synth import concat_stream, load_clips

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "long.wav"
        clips = load_clips([SHARED / "ja_read_test.wav", SHARED / "en_read_test.wav", SHARED / "jfk.flac"])
        concat_stream(path, clips, seconds, iter(GAPS * 100000))
        del clips
        tr = Transcriber()
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        marks, next_mark = [], 900.0
        t = time.perf_counter()
        segs, info = tr.transcribe(path)
        n = 0
        for seg in segs:
            n += 1
            if seg.end >= next_mark:
                marks.append({"audio_min": round(next_mark / 60), "wall": round(time.perf_counter() - t, 1),
                              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                              "rss_mb": round(_rss_mb())})
                next_mark += 900.0
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "wall": wall, "rtf": wall / seconds, "segments": n,
                      "peak_rss_mb": peak, "rss_after_load_mb": base_rss, "marks": marks}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--explore", action="store_true")
    ap.add_argument("--long", default="600,1800,3600")
    ap.add_argument("--no-long", action="store_true")
    ap.add_argument("--long-only", action="store_true", help="skip the ja/en comparison, run only the long files")
    ap.add_argument("--long-child", type=float)
    a = ap.parse_args()
    if a.long_child:
        return long_child(a.long_child)
    if not SHARED.is_dir():
        sys.exit("../shared/audio is absent: this benchmark needs the shared test recordings")
    if not a.long_only:
        compare(a)
    if not a.no_long:
        long_runs(a.long)


def compare(a: argparse.Namespace) -> None:
    from transcription.evaluate import error_rate, metric_name
    from transcription.models import auto_device, load_model, resolve_model

    resolved = resolve_model(None)
    device, ctype = auto_device()
    model = load_model(resolved, device, ctype, 0)
    print(f"model {resolved.name} on {device}/{ctype}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        sets = build_sets(Path(d))
        ours(Path(d) / "ja_1.0.wav", "ja")  # warm-up: VAD model and caches
        rows = []
        for name, (path, lang, ref) in sets.items():
            secs = float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True).stdout)
            runs = {"bare sequential (beam 5, VAD)": lambda: bare(model, path, lang),
                    "kyodo pipeline (defaults)": lambda: ours(path, lang)}
            if a.explore:
                runs |= {
                    "upstream batched b8 ts": lambda: upstream_batched(model, path, lang, batch_size=8, beam_size=5, without_timestamps=False),
                    "kyodo batched beam1": lambda: ours(path, lang, beam_size=1),
                    "kyodo batched beam5": lambda: ours(path, lang, beam_size=5),
                }
            base = None
            for label, fn in runs.items():
                text, wall = fn()
                err = error_rate(ref, text, lang)
                base = base or wall
                rows.append((name, label, secs, wall, err, base / wall))
                print(f"{name} {secs:6.1f}s  {label:34s} RTF {wall / secs:.3f}  {metric_name(lang)} {err:.3f}  speed x{base / wall:.2f}", flush=True)
        hard_audio(model, Path(d))


def long_runs(lengths: str) -> None:
    print("\nlong files (fresh process each; ja+en clips with pauses; default pipeline):")
    for secs in [float(x) for x in lengths.split(",") if x]:
        out = subprocess.run([sys.executable, __file__, "--long-child", str(secs)], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr[-2000:])
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{secs / 60:5.1f} min  RTF {r['rtf']:.3f}  wall {r['wall']:.0f}s  peak RSS {r['peak_rss_mb']:.0f} MB "
              f"(after model load {r['rss_after_load_mb']:.0f} MB)  segments {r['segments']}", flush=True)
        for m in r["marks"]:
            print(f"      at {m['audio_min']:3d} min of audio: wall {m['wall']:.0f}s  peak RSS so far {m['peak_rss_mb']} MB  "
                  f"current RSS {m['rss_mb']} MB", flush=True)


if __name__ == "__main__":
    main()
