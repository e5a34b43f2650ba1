"""Typed boundaries of the engine: one options object in, pydantic results out."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TranscribeOptions(BaseModel):
    """Everything a caller can set for one transcription (faster-whisper style: one typed object).

    Defaults are the measured best honest configuration on 2 CPU cores (see bench/README.md):
    our batched pipeline with timestamps, greedy decoding, and a re-seek of chunks that the
    decoder closed early (so batching loses no words).
    """

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field("ja", description="ISO code; None = detect once per file")
    model: str | None = Field(None, description="None/'base' = offline base; a folder path; or a hub model name")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = Field("auto", description="auto: int8 on CPU, float16 on CUDA")
    cpu_threads: int = Field(0, ge=0, description="0 = all cores")
    mode: Literal["batched", "sequential"] = "batched"
    batch_size: int = Field(8, ge=1, le=64)
    beam_size: int = Field(5, ge=1, le=10)
    chunk_seconds: float = Field(30.0, gt=1, le=30, description="longest chunk given to the decoder")
    vad: bool = True
    vad_threshold: float = Field(0.5, gt=0, lt=1)
    word_timestamps: bool = True
    # hallucination guards (Whisper's own thresholds; applied per chunk in batched mode)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    max_tokens_per_second: float = Field(12.0, gt=0, description="caps decoder length so a loop cannot run to 448 tokens")
    drop_flagged: bool = Field(False, description="omit flagged segments from outputs (they are always marked)")
    # vocabulary and minutes-style cleanup
    glossary: list[str] = Field(default_factory=list, description="terms passed to the decoder as hotwords")
    replacements: dict[str, str] = Field(default_factory=dict, description="置換辞書, applied after recognition")
    remove_fillers: bool = True
    normalise_numbers: bool = True
    add_punctuation: bool = True
    # speakers: one microphone per channel
    split_channels: Literal["auto", "on", "off"] = "auto"
    speaker_names: list[str] = Field(default_factory=list, description="names for channel 1, 2, …")
    window_seconds: float = Field(600.0, ge=60, description="audio decoded per step: bounds memory on long files")
    pause_paragraph_seconds: float = Field(2.0, gt=0, description="pause that starts a new paragraph in the minutes")


class Word(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class Segment(BaseModel):
    id: int
    start: float
    end: float
    text: str
    raw_text: str = Field(description="the decoder's text before cleanup")
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    confidence: float = Field(description="exp(avg_logprob), 0..1")
    flagged: bool = False
    flag_reasons: list[str] = Field(default_factory=list)
    speaker: str | None = None
    words: list[Word] = Field(default_factory=list)


class TranscriptInfo(BaseModel):
    source: str
    audio_seconds: float
    language: str
    model: str
    device: str
    compute_type: str
    channels: int
    options: TranscribeOptions


class TranscriptResult(BaseModel):
    """What ``transcribe_file`` returns (the contract the runner and demo use)."""

    source: Path
    audio_seconds: float
    language: str
    files: dict[str, Path]
    segments: int
    flagged_segments: int
    seconds: float = Field(0.0, description="wall time of the transcription")
    text: str = ""
    model: str = ""

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0
