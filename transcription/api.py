"""``transcribe_file``: the one call the runner, CLI and demo use."""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from transcription.engine import Progress, Transcriber
from transcription.options import TranscribeOptions, TranscriptResult
from transcription.writers import FORMATS, write_all

_TRANSCRIBERS: dict[str, Transcriber] = {}


def get_transcriber(options: TranscribeOptions, model_dir: Path | None = None) -> Transcriber:
    """One Transcriber per model configuration per process (the model loads once)."""
    key = options.model_dump_json(include={"model", "device", "compute_type", "cpu_threads"}) + str(model_dir)
    if key not in _TRANSCRIBERS:
        _TRANSCRIBERS[key] = Transcriber(options, model_dir=model_dir)
    return _TRANSCRIBERS[key]


def transcribe_file(path: Path, out_dir: Path, *, options: TranscribeOptions | None = None,
                    formats: Sequence[str] = FORMATS, title: str | None = None,
                    progress: Progress | None = None, model_dir: Path | None = None) -> TranscriptResult:
    """Transcribe *path* and write the requested formats to *out_dir* as ``<stem>.<fmt>``.

    Raises ``AudioError`` (unreadable input) or ``ModelError`` (no usable model); nothing is
    written in either case.
    """
    options = options or TranscribeOptions()
    path = Path(path)
    formats = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown output format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    start = time.perf_counter()
    transcriber = get_transcriber(options, model_dir)
    seg_iter, info = transcriber.transcribe(path, progress=progress, options=options)
    segments = list(seg_iter)
    kept = [s for s in segments if not (options.drop_flagged and s.flagged)]
    files = write_all(kept, info, Path(out_dir), path.stem, formats, title=title)
    return TranscriptResult(
        source=path, audio_seconds=round(info.audio_seconds, 3), language=info.language, files=files,
        segments=len(kept), flagged_segments=sum(1 for s in kept if s.flagged),
        seconds=round(time.perf_counter() - start, 3), text=("" if info.language in ("ja", "zh") else " ").join(s.text for s in kept), model=info.model,
    )
