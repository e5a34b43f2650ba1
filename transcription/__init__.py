"""Kyodo's transcription engine (offline faster-whisper). Imports nothing of tenants or automation.

Public API: ``TranscribeOptions``, ``transcribe_file`` (→ ``TranscriptResult``), ``Transcriber``
(streams ``Segment`` objects lazily), ``errors.AudioError`` and ``weights.ModelError``.
"""
from transcription.api import transcribe_file
from transcription.engine import Transcriber
from transcription.errors import AudioError, ModelError
from transcription.options import Segment, TranscribeOptions, TranscriptInfo, TranscriptResult, Word

__all__ = [
    "AudioError", "ModelError", "Segment", "TranscribeOptions", "TranscriptInfo", "TranscriptResult",
    "Transcriber", "Word", "transcribe_file",
]
