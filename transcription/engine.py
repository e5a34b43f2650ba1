"""The transcription pipeline: one public class, :class:`Transcriber`.

Like faster-whisper, ``Transcriber.transcribe`` returns a lazy generator of segments plus an
info object, so a caller streams hours of audio in bounded memory.

Batched mode (the default) is our own loop over faster-whisper's ``BatchedInferencePipeline``
forward pass. Why not its ``transcribe``: with timestamps it has no seek loop, so when the
decoder closes a 30 s chunk early (a final timestamp token before the chunk ends) the rest of
the chunk is silently lost, which is the "batched mode loses words" report. We re-queue the
unheard remainder of such chunks into the next batch, which sequential decoding would have done.
"""
from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from transcription import postprocess
from transcription.audio import SAMPLE_RATE, AudioWindow, iter_windows, probe
from transcription.models import load_on_device, resolve_model
from transcription.options import Segment, TranscribeOptions, TranscriptInfo, Word

log = logging.getLogger(__name__)
Progress = Callable[[float, float], None]  # (seconds done, seconds total)
RESEEK_MIN_SECONDS = 1.5  # unheard audio at a chunk's end worth another pass
# Spans are packed back to back, as faster-whisper's batched mode does. Measured alternatives (1 s of
# silence between spans; keeping pauses under 2 s as recorded) changed single words on the Japanese
# test clip for the worse (CER 8% -> 13%), so both are off; _locate supports a splice if one is set.
MERGE_GAP = 0
SPLICE = 0


class Transcriber:
    """Transcribe files with one model, loaded once (and cached per process)."""

    def __init__(self, options: TranscribeOptions | None = None, *, model_dir: Path | None = None) -> None:
        self.options = options or TranscribeOptions()
        self.resolved = resolve_model(self.options.model, model_dir)
        self.model, self.device, self.compute_type = load_on_device(
            self.resolved, self.options.device, self.options.compute_type, self.options.cpu_threads)
        from faster_whisper import BatchedInferencePipeline

        self._pipeline = BatchedInferencePipeline(self.model)

    # -- public -------------------------------------------------------------------------
    def transcribe(self, path: Path, *, progress: Progress | None = None,
                   options: TranscribeOptions | None = None) -> tuple[Iterator[Segment], TranscriptInfo]:
        opts = options or self.options
        path = Path(path)
        meta = probe(path)  # raises AudioError before any work starts
        language = opts.language or "auto"
        info = TranscriptInfo(source=str(path), audio_seconds=meta.seconds, language=language,
                              model=self.resolved.name, device=self.device, compute_type=self.compute_type,
                              channels=meta.channels, options=opts)
        keep_channels = meta.channels > 1 and opts.split_channels != "off"
        return self._segments(path, opts, info, keep_channels, progress), info

    # -- internals ------------------------------------------------------------------------
    def _segments(self, path: Path, opts: TranscribeOptions, info: TranscriptInfo, keep_channels: bool,
                  progress: Progress | None) -> Iterator[Segment]:
        seg_id = 0
        speakers_on: bool | None = True if opts.split_channels == "on" else None
        done = 0.0
        for window in iter_windows(path, opts.window_seconds, keep_channels=keep_channels):
            if info.language == "auto":
                info.language = self._detect_language(window.mono)
            if window.channels is not None and speakers_on is None:
                speakers_on = _separate_microphones(window.channels)
            raw = (self._batched(window, opts, info.language) if opts.mode == "batched"
                   else self._sequential(window, opts, info.language))
            finished = [self._finish(r, opts, info.language, window, bool(speakers_on), 0)
                        for r in sorted(raw, key=lambda r: r["start"])]
            kept = [s for s in finished if s is not None]
            for i, seg in enumerate(kept):
                if opts.add_punctuation and info.language == "ja":
                    nxt = kept[i + 1].start - seg.end if i + 1 < len(kept) else None
                    seg.text = postprocess.close_sentence_ja(seg.text, nxt)
                seg_id += 1
                seg.id = seg_id
                yield seg
            done = window.offset + len(window.mono) / SAMPLE_RATE
            if progress:
                progress(done, max(info.audio_seconds, done))
        if not info.audio_seconds:
            info.audio_seconds = done
        info.audio_seconds = max(info.audio_seconds, done) if done else info.audio_seconds

    def _detect_language(self, audio: np.ndarray) -> str:
        if not self.model.model.is_multilingual:
            return "en"
        try:
            lang, _prob, _all = self.model.detect_language(audio=audio[: 30 * SAMPLE_RATE], vad_filter=True)
        except (ValueError, IndexError):  # no speech to detect from: Japanese is the platform's default
            return "ja"
        return lang

    def _chunks(self, audio: np.ndarray, opts: TranscribeOptions) -> list[list[tuple[int, int]]]:
        """Speech spans (Silero VAD) packed into decoder chunks of at most ``chunk_seconds`` of speech.

        Silence between spans is left out of a chunk (as faster-whisper's batched mode does), so
        an hour with many pauses needs as few 30 s encoder passes as possible; times are mapped
        back to the recording afterwards.
        """
        limit = int(opts.chunk_seconds * SAMPLE_RATE)
        if not opts.vad:
            return [[(s, min(s + limit, len(audio)))] for s in range(0, len(audio), limit)]
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        spans = get_speech_timestamps(audio, VadOptions(threshold=opts.vad_threshold, max_speech_duration_s=opts.chunk_seconds - 1,
                                                        min_silence_duration_ms=1000, speech_pad_ms=400))
        merged: list[list[int]] = []
        for sp in spans:
            if merged and sp["start"] - merged[-1][1] < MERGE_GAP and sp["end"] - merged[-1][0] <= limit:
                merged[-1][1] = sp["end"]
            else:
                merged.append([sp["start"], sp["end"]])
        chunks: list[list[tuple[int, int]]] = []
        size = 0
        for s, e in merged:
            if e - s < SAMPLE_RATE // 10:
                continue
            if chunks and size + SPLICE + (e - s) <= limit:
                chunks[-1].append((s, e))
                size += SPLICE + e - s
            else:
                chunks.append([(s, e)])
                size = e - s
        return chunks

    def _fw_options(self, opts: TranscribeOptions, tokenizer, without_timestamps: bool = False):  # noqa: ANN001, ANN202
        from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

        hotwords = " ".join(opts.glossary) if opts.glossary else None
        prompt = self.model.get_prompt(tokenizer, [], without_timestamps=without_timestamps, hotwords=hotwords)
        max_new = int(math.ceil(opts.chunk_seconds * opts.max_tokens_per_second))
        max_new = max(16, min(max_new, self.model.max_length - len(prompt) - 1))
        return TranscriptionOptions(
            beam_size=opts.beam_size, best_of=1, patience=1.0, length_penalty=1.0, repetition_penalty=1.0,
            no_repeat_ngram_size=0, log_prob_threshold=opts.log_prob_threshold,
            no_speech_threshold=opts.no_speech_threshold, compression_ratio_threshold=opts.compression_ratio_threshold,
            condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
            temperatures=[0.0],  # no fallback ladder: on hard audio it loops for seconds and invents text
            initial_prompt=None, prefix=None, suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]), without_timestamps=without_timestamps,
            max_initial_timestamp=0.0, word_timestamps=opts.word_timestamps,
            prepend_punctuations="\"'“¿([{-", append_punctuations="\"'.。,，!！?？:：”)]}、",
            multilingual=False, max_new_tokens=max_new, clip_timestamps="0",
            hallucination_silence_threshold=None, hotwords=hotwords,
        )

    def _batched(self, window: AudioWindow, opts: TranscribeOptions, language: str) -> list[dict]:
        """Decode packed chunks in batches without timestamp tokens (the fast path), with word
        timestamps for timing; a chunk the decoder closed early is re-queued from its last word."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        audio = window.mono
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe", language=language)
        fw_opts = self._fw_options(opts, tokenizer, without_timestamps=True)
        fw_opts.word_timestamps = True  # needed to place text in time (and to find unheard rests)
        queue = deque(self._chunks(audio, opts))
        out: list[dict] = []
        while queue:
            batch = [queue.popleft() for _ in range(min(opts.batch_size, len(queue)))]
            silence = np.zeros(SPLICE, np.float32)
            packed = [np.concatenate([p for s, e in spans for p in (silence, audio[s:e])][1:]) for spans in batch]
            feats = np.stack([pad_or_trim(self.model.feature_extractor(a)[..., :-1]) for a in packed])
            metas = [{"offset": 0.0, "duration": len(a) / SAMPLE_RATE} for a in packed]
            self._pipeline.last_speech_timestamp = 0.0
            results = self._pipeline.forward(feats, tokenizer, metas, fw_opts)
            for spans, segs in zip(batch, results):
                words = [_place_word(w, spans) for g in segs for w in g.get("words") or []]
                text = "".join(g["text"] for g in segs).strip()
                if not text:
                    continue
                head = segs[0]
                words, looped = _collapse_word_loops(words)
                stats = {"avg_logprob": head["avg_logprob"], "no_speech_prob": head["no_speech_prob"],
                         "compression_ratio": postprocess_ratio(text), "looped": looped}
                if not words:
                    start, end = spans[0][0] / SAMPLE_RATE, spans[-1][1] / SAMPLE_RATE
                    out.append(_shift(dict(stats, text=text, start=start, end=end, words=[]), window.offset))
                    continue
                out.extend(_shift(g, window.offset) for g in _split_words(words, stats, language))
                last_end = int(words[-1]["end"] * SAMPLE_RATE)
                rest = [(max(s, last_end), e) for s, e in spans if e > last_end]
                rest_len = sum(e - s for s, e in rest)
                progress_made = last_end - spans[0][0] >= SAMPLE_RATE // 2
                if rest_len >= RESEEK_MIN_SECONDS * SAMPLE_RATE and progress_made and not looped:
                    queue.append(rest)  # the decoder stopped before the chunk's speech ended
        return out

    def _sequential(self, window: AudioWindow, opts: TranscribeOptions, language: str) -> list[dict]:
        segments, _ = self.model.transcribe(
            window.mono, language=language, beam_size=opts.beam_size, vad_filter=opts.vad,
            vad_parameters={"threshold": opts.vad_threshold} if opts.vad else None,
            word_timestamps=opts.word_timestamps, condition_on_previous_text=False, temperature=0.0,
            compression_ratio_threshold=opts.compression_ratio_threshold, log_prob_threshold=opts.log_prob_threshold,
            no_speech_threshold=opts.no_speech_threshold,
            hallucination_silence_threshold=2.0 if opts.word_timestamps else None,
            hotwords=" ".join(opts.glossary) if opts.glossary else None,
        )
        out = []
        for s in segments:
            g = {"text": s.text, "start": s.start, "end": s.end, "avg_logprob": s.avg_logprob,
                 "no_speech_prob": s.no_speech_prob, "compression_ratio": s.compression_ratio,
                 "words": [w.__dict__ for w in s.words or []]}
            out.append(_shift(g, window.offset))
        return out

    def _finish(self, r: dict, opts: TranscribeOptions, language: str, window: AudioWindow,
                speakers: bool, seg_id: int) -> Segment | None:
        """Hallucination guards and cleanup for one decoded segment; None drops it."""
        raw = r["text"].strip()
        avg_logprob = float(r["avg_logprob"])
        no_speech = float(r["no_speech_prob"])
        if no_speech > opts.no_speech_threshold and avg_logprob < opts.log_prob_threshold:
            return None  # Whisper's own silence rule (the batched forward pass does not apply it)
        reasons = []
        text, looped = postprocess.collapse_repetitions(raw)
        if looped or r.get("looped"):
            reasons.append("repetition")
        if float(r["compression_ratio"]) > opts.compression_ratio_threshold:
            reasons.append("compression_ratio")
        if avg_logprob < opts.log_prob_threshold:
            reasons.append("low_confidence")
        if postprocess.is_known_hallucination(raw):
            reasons.append("known_hallucination")
        text = postprocess.clean(text, language=language, fillers=opts.remove_fillers, numbers=opts.normalise_numbers,
                                 punctuation=opts.add_punctuation, replacements=opts.replacements)
        if not text:
            return None
        words_in = r.get("words") or []
        if words_in and len(text) <= 4 and max(float(w["probability"]) for w in words_in) < 0.3:
            return None  # a breath or click read as a syllable: prefer nothing to an invention
        if reasons and opts.drop_flagged:
            return None
        words = [Word(start=round(w["start"], 3), end=round(w["end"], 3), word=w["word"], probability=round(float(w["probability"]), 4))
                 for w in r.get("words") or []]
        speaker = _dominant_channel(window, r["start"], r["end"], opts.speaker_names) if speakers else None
        return Segment(id=seg_id, start=round(r["start"], 3), end=round(r["end"], 3), text=text, raw_text=raw,
                       avg_logprob=round(avg_logprob, 4), no_speech_prob=round(no_speech, 4),
                       compression_ratio=round(float(r["compression_ratio"]), 3),
                       confidence=round(math.exp(min(0.0, avg_logprob)), 4), flagged=bool(reasons),
                       flag_reasons=reasons, speaker=speaker, words=words)


def postprocess_ratio(text: str) -> float:
    from faster_whisper.transcribe import get_compression_ratio

    return float(get_compression_ratio(text)) if text else 0.0


def _place_word(w: dict, spans: list[tuple[int, int]]) -> dict:
    """Map a word's times back; the alignment stretches a word back over a pause, so its end decides
    which speech span it belongs to, and its start is clamped to that span."""
    end, span = _locate(w["end"], spans)
    start, _ = _locate(w["start"], spans)
    start = min(max(start, spans[span][0] / SAMPLE_RATE), end)
    return dict(w, start=start, end=end, span=span)


def _locate(t: float, spans: list[tuple[int, int]]) -> tuple[float, int]:
    """Map a time in a packed chunk (spans joined by SPLICE silences) back to the window's time
    line, with the index of its span; a time inside a splice goes to the nearer span."""
    pos = t * SAMPLE_RATE
    for i, (s, e) in enumerate(spans):
        if pos <= e - s:
            return (s + max(pos, 0)) / SAMPLE_RATE, i
        pos -= e - s
        if i + 1 < len(spans) and pos < SPLICE:
            return ((e, i) if pos < SPLICE / 2 else (spans[i + 1][0], i + 1))[0] / SAMPLE_RATE, (i if pos < SPLICE / 2 else i + 1)
        pos -= SPLICE
    return spans[-1][1] / SAMPLE_RATE, len(spans) - 1


def _norm_word(w: dict) -> str:
    return w["word"].strip().lower()


def _collapse_word_loops(words: list[dict], min_repeats: int = 4, max_n: int = 15) -> tuple[list[dict], bool]:
    """Remove a decoder loop: the same 1..15 words repeated 4+ times in a row keeps one copy."""
    found = False
    i = 0
    out = list(words)
    while i < len(out):
        for n in range(1, max_n + 1):
            unit = [_norm_word(w) for w in out[i:i + n]]
            if len(unit) < n or not any(unit):
                break
            reps = 1
            while [_norm_word(w) for w in out[i + reps * n:i + (reps + 1) * n]] == unit:
                reps += 1
            if reps >= min_repeats:
                del out[i + n:i + reps * n]
                found = True
                break
        i += 1
    return out, found


_SENTENCE_END = ("。", "？", "！", "?", "!", ".")


def _split_words(words: list[dict], stats: dict, language: str, pause: float = 0.6,
                 soft_max: float = 6.0, hard_max: float = 15.0) -> list[dict]:
    """Cut one chunk's words into subtitle-sized segments: at a pause, at a sentence end once a
    segment is a few seconds long, or at a hard length limit."""
    segs: list[list[dict]] = [[]]
    for w in words:
        cur = segs[-1]
        if cur:
            dur = w["end"] - cur[0]["start"]
            gap = w["start"] - cur[-1]["end"]
            ended = cur[-1]["word"].strip().endswith(_SENTENCE_END)
            new_span = w.get("span", 0) != cur[-1].get("span", 0)
            if new_span or gap >= pause or (ended and dur >= soft_max) or dur >= hard_max:
                segs.append([])
        segs[-1].append(w)
    out = []
    for ws in segs:
        text = "".join(w["word"] for w in ws).strip()
        if text:
            ws = [{k: v for k, v in w.items() if k != "span"} for w in ws]
            out.append(dict(stats, text=text, start=ws[0]["start"], end=ws[-1]["end"], words=ws,
                            compression_ratio=stats["compression_ratio"]))
    return out


def _shift(g: dict, offset: float) -> dict:
    g = dict(g)
    g["start"] = float(g["start"]) + offset
    g["end"] = float(g["end"]) + offset
    g["words"] = [dict(w, start=float(w["start"]) + offset, end=float(w["end"]) + offset) for w in g.get("words") or []]
    return g


def _separate_microphones(channels: np.ndarray) -> bool:
    """True when the channels carry different microphones (not one source copied to both)."""
    a = channels[:, : 120 * SAMPLE_RATE]
    if a.shape[1] < SAMPLE_RATE or np.allclose(a.std(axis=1), 0):
        return False
    corr = np.corrcoef(a)
    off = corr[~np.eye(len(corr), dtype=bool)]
    return bool(np.nanmax(off) < 0.9)


def _dominant_channel(window: AudioWindow, start: float, end: float, names: list[str]) -> str | None:
    assert window.channels is not None
    s = max(0, int((start - window.offset) * SAMPLE_RATE))
    e = max(s + 1, int((end - window.offset) * SAMPLE_RATE))
    energy = (window.channels[:, s:e] ** 2).mean(axis=1)
    if not energy.any():
        return None
    order = np.argsort(energy)[::-1]
    if len(order) > 1 and energy[order[0]] < 2.0 * energy[order[1]]:
        return None  # no channel dominates by 3 dB: crosstalk, do not guess
    i = int(order[0])
    return names[i] if i < len(names) else f"話者{i + 1}"
