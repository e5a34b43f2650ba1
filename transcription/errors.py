"""Errors of the transcription engine: English ``str(e)`` for logs, ``message_ja`` for the clerk."""
from __future__ import annotations

from transcription.weights import ModelError


class AudioError(ValueError):
    """The input cannot be read as audio (missing, corrupt, no audio stream, unsupported).

    ``str(e)`` says in English what is wrong, where, and what to do; ``message_ja`` says the
    same for the clerk's reason file. Messages never contain the audio's content.
    """

    def __init__(self, message: str, message_ja: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message_ja = message_ja
        self.path = path


class AudioMissingError(AudioError):
    pass


class AudioCorruptError(AudioError):
    pass


class NoAudioStreamError(AudioError):
    pass


__all__ = ["AudioError", "AudioMissingError", "AudioCorruptError", "NoAudioStreamError", "ModelError"]
