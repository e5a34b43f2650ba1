"""Model resolution and loading: offline base by default, a local folder, or a hub model name.

This module is the one place that constructs ``faster_whisper.WhisperModel``; tests inject
faults at this seam (see ``tests/transcription``), never by patching the pipeline.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from transcription.weights import (
    INSTALL_HINT,
    OFFLINE_BASE_NAME,
    ModelError,
    offline_base_dir,
    sha256_file,
    verify,
)

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
OFFLINE_ALIASES = {None, "", "base", "offline", OFFLINE_BASE_NAME}


def default_model_dir() -> Path:
    """Where weights live: KYODO_MODEL_DIR, else KYODO_DATA_ROOT/models, else <project>/var/models.

    Read from the environment here because the engine may not import the platform settings;
    the same variables drive ``tenants.settings`` so both agree.
    """
    if env := os.environ.get("KYODO_MODEL_DIR"):
        return Path(env)
    if root := os.environ.get("KYODO_DATA_ROOT"):
        return Path(root) / "models"
    return PROJECT_ROOT / "var" / "models"


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # what we report (folder name or hub name)
    location: str  # what WhisperModel receives (a folder path or a hub name)
    offline_base: bool


def resolve_model(spec: str | None, model_dir: Path | None = None) -> ResolvedModel:
    """Turn the ``model`` setting into something WhisperModel can load, or raise ModelError."""
    model_dir = model_dir or default_model_dir()
    if spec in OFFLINE_ALIASES:
        folder = offline_base_dir(model_dir)
        verify(folder)
        return ResolvedModel(OFFLINE_BASE_NAME, str(folder), True)
    assert spec is not None
    for candidate in (Path(spec).expanduser(), model_dir / spec):
        if candidate.is_dir():
            missing = [n for n in ("model.bin", "config.json") if not (candidate / n).is_file()]
            if missing:
                raise ModelError(
                    f"model folder {candidate} lacks {', '.join(missing)}: copy a complete CTranslate2 "
                    f"Whisper model there (e.g. converted with ct2-transformers-converter), or use the offline base; {INSTALL_HINT}"
                )
            return ResolvedModel(candidate.name, str(candidate), False)
    if "/" in spec or spec.startswith(("tiny", "base", "small", "medium", "large", "distil", "turbo")):
        # A hub name: only useful where a hub is reachable; load_model turns failure into ModelError.
        return ResolvedModel(spec, spec, False)
    raise ModelError(f"model '{spec}' is neither a folder nor a known model name; {INSTALL_HINT}")


def auto_device(device: str = "auto", compute_type: str = "auto") -> tuple[str, str]:
    """CUDA (float16) when a GPU is visible to CTranslate2, else CPU int8."""
    if device == "auto":
        try:
            import ctranslate2

            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        except Exception:  # noqa: BLE001 - a broken CUDA install must not stop CPU use
            device = "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def _cpu_threads(asked: int) -> int:
    """Threads for CTranslate2, never above an OMP_THREAD_LIMIT in the environment: CTranslate2
    asked for more threads than OpenMP allows computes garbage (measured: ')))))' for Japanese)."""
    threads = asked or (os.cpu_count() or 2)
    limit = os.environ.get("OMP_THREAD_LIMIT", "")
    return max(1, min(threads, int(limit))) if limit.isdigit() and int(limit) > 0 else threads


_CACHE: dict[tuple, object] = {}
_LOCK = threading.Lock()


def load_model(resolved: ResolvedModel, device: str, compute_type: str, cpu_threads: int = 0):  # noqa: ANN201
    """Load (once per process and configuration) a ``faster_whisper.WhisperModel``."""
    key = (resolved.location, device, compute_type, cpu_threads)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        from faster_whisper import WhisperModel

        try:
            model = WhisperModel(
                resolved.location,
                device=device,
                compute_type=compute_type,
                cpu_threads=_cpu_threads(cpu_threads),
                local_files_only=not resolved.offline_base and Path(resolved.location).is_dir(),
            )
        except Exception as e:  # noqa: BLE001 - any loader failure is reported the same way
            raise ModelError(
                f"cannot load Whisper model '{resolved.name}' on {device}/{compute_type}: {type(e).__name__}: {e}; "
                f"check the folder or network, or use the offline base ({INSTALL_HINT})"
            ) from e
        _CACHE[key] = model
        return model


def _check_cuda(model) -> None:  # noqa: ANN001
    """Run one encoder pass: CTranslate2 opens cuBLAS/cuDNN only at the first GPU op, so a
    machine with a GPU but the wrong CUDA libraries would otherwise fail mid-file."""
    import ctranslate2
    import numpy as np

    n_mels = int(getattr(model.model, "n_mels", 80))
    model.model.encode(ctranslate2.StorageView.from_array(np.zeros((1, n_mels, 3000), np.float32)))


def load_on_device(resolved: ResolvedModel, device: str = "auto", compute_type: str = "auto",
                   cpu_threads: int = 0):  # noqa: ANN201
    """Load the model where asked; with ``device="auto"`` a GPU that cannot run it falls back to
    CPU int8 with a warning (a clear ModelError when CUDA was asked for explicitly).

    Returns ``(model, device, compute_type)``.
    """
    dev, ctype = auto_device(device, compute_type)
    if dev != "cuda":
        return load_model(resolved, dev, ctype, cpu_threads), dev, ctype
    try:
        model = load_model(resolved, dev, ctype, cpu_threads)
        _check_cuda(model)
        return model, dev, ctype
    except Exception as e:  # noqa: BLE001 - missing libcublas/cuDNN, out of GPU memory, driver mismatch
        with _LOCK:
            _CACHE.pop((resolved.location, dev, ctype, cpu_threads), None)
        why = f"{type(e).__name__}: {e}"
        if device == "cuda":
            raise ModelError(f"cannot run Whisper on the GPU ({why}); CTranslate2 4.x needs CUDA 12 and cuDNN 9, "
                             "or set device to 'cpu'") from e
        log.warning("GPU found but unusable (%s); transcribing on CPU (int8) instead", why)
        cpu_type = "int8" if compute_type == "auto" else compute_type
        return load_model(resolved, "cpu", cpu_type, cpu_threads), "cpu", cpu_type


def installed_models(model_dir: Path | None = None) -> list[dict]:
    """Folders under the model directory that look like CTranslate2 Whisper models."""
    model_dir = model_dir or default_model_dir()
    rows = []
    if not model_dir.is_dir():
        return rows
    for folder in sorted(p for p in model_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        model = folder / "model.bin"
        if not model.is_file():
            continue
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        row = {"name": folder.name, "path": str(folder), "bytes": size, "sha256": "", "status": "present"}
        if folder.name == OFFLINE_BASE_NAME:
            try:
                verify(folder)
                row["status"] = "verified"
            except ModelError as e:
                row["status"] = f"corrupt: {e}"
        row["sha256"] = sha256_file(model)
        rows.append(row)
    return rows
