"""Installing jpn_full: verified download, the process-wide settings dropped, nothing half-installed;
and, with the real model, that loading it leaves jpn's page reading untouched."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import random
import shutil
import struct
import tarfile

import cv2
import numpy as np
import pytest

from ocr import models
from ocr.errors import EngineError
from ocr.tesseract import Word

CONFIG = b"# CJK\nlanguage_model_ngram_on 1\nedges_children_fix T\ntextord_tabfind_aligned_gap_fraction 0.5\ntextord_use_cjk_fp_model T\n"


def _container(config: bytes, payload: bytes, n: int = 24) -> bytes:
    header = 4 + 8 * n
    offsets = [header, header + len(config)] + [-1] * (n - 2)
    return struct.pack("<i", n) + struct.pack(f"<{n}q", *offsets) + config + payload


def _tarball(tmp_path, model: bytes, member: str = models.NPM_MEMBER) -> tuple[str, str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = gzip.compress(model)
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "jpn-1.0.0.tgz"
    path.write_bytes(buf.getvalue())
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(buf.getvalue()).digest()).decode()
    return path.as_uri(), integrity


def test_install_verifies_drops_global_settings_and_is_idempotent(tmp_path):
    model = _container(CONFIG, b"LSTM-NETWORK" * 10)
    url, integrity = _tarball(tmp_path, model)
    expected = models._without_global_params(model)
    kwargs = dict(url=url, integrity=integrity, model_sha256=hashlib.sha256(model).hexdigest(),
                  installed_sha256=hashlib.sha256(expected).hexdigest(), target=tmp_path / "tessdata")
    dest = models.install_full_model(**kwargs)
    installed = dest.read_bytes()
    assert b"edges_children_fix" not in installed and b"textord_tabfind" not in installed
    assert b"language_model_ngram_on 1" in installed and b"textord_use_cjk_fp_model T" in installed
    assert installed.endswith(b"LSTM-NETWORK" * 10)  # the other components untouched
    assert (tmp_path / "tessdata" / "configs" / "tsv").read_text() == "tessedit_create_tsv 1\n"
    (tmp_path / "jpn-1.0.0.tgz").unlink()  # a second run must not download again
    assert models.install_full_model(**kwargs) == dest


def test_a_tampered_or_wrong_download_installs_nothing(tmp_path):
    model = _container(CONFIG, b"X" * 50)
    url, integrity = _tarball(tmp_path, model)
    target = tmp_path / "tessdata"
    with pytest.raises(EngineError, match="does not match its published sha512"):
        models.install_full_model(url=url, integrity="sha512-" + base64.b64encode(b"0" * 64).decode(), target=target)
    with pytest.raises(EngineError, match="unexpected SHA-256"):
        models.install_full_model(url=url, integrity=integrity, model_sha256="0" * 64, target=target)
    url2, integrity2 = _tarball(tmp_path, model, member="package/other.gz")
    with pytest.raises(EngineError, match="lacks a readable"):
        models.install_full_model(url=url2, integrity=integrity2, target=target)
    with pytest.raises(EngineError, match="could not download"):
        models.install_full_model(url=(tmp_path / "missing.tgz").as_uri(), target=target)
    assert not target.exists() or not list(target.glob("*.traineddata"))


def test_the_folder_follows_the_model_dir_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("KYODO_MODEL_DIR", str(tmp_path / "m"))
    assert models.tessdata_dir() == tmp_path / "m" / "tessdata"
    assert models.datapath_for(models.FULL_LANG) is None  # not installed there
    assert models.datapath_for("jpn") is None  # Debian's own folder


class _Engine:
    """An engine with only some models: Tesseract fails to load any other one."""

    def __init__(self, langs: set[str]) -> None:
        self.langs = langs
        self.probed: list[str] = []

    def words(self, image: np.ndarray, *, lang: str, psm: int, dpi: int,
              whitelist: str | None = None, dictionaries: bool = True) -> list[Word]:
        self.probed.append(lang)
        if lang not in self.langs:
            raise EngineError(f"Tesseract could not load language '{lang}'")
        return []


def test_missing_models_names_each_with_its_role_and_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("KYODO_MODEL_DIR", str(tmp_path / "m"))
    engine = _Engine({"jpn", "eng", "jpn_full"})  # jpn_full loadable, but not installed in our folder
    missing = {m.name: m for m in models.missing_models(engine)}
    assert set(missing) == {"jpn_full", "Japanese"} and "jpn_full" not in engine.probed
    assert missing["jpn_full"].fix == models.INSTALL_HINT and str(tmp_path / "m" / "tessdata") in missing["jpn_full"].where
    assert missing["jpn_full"].warning().startswith("jpn_full model missing: ")
    assert "kyodo ocr models --install" in missing["jpn_full"].warning()
    assert "tesseract-ocr-script-jpan" in missing["Japanese"].fix and missing["Japanese"].role
    assert models.missing_models(_Engine({"jpn", "eng", "Japanese", "jpn_full"})) != []  # still not installed


def test_a_model_installed_later_is_seen_by_the_same_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("KYODO_MODEL_DIR", str(tmp_path / "m"))
    engine = _Engine({"jpn", "eng", "Japanese", "jpn_full"})
    assert [m.name for m in models.missing_models(engine)] == ["jpn_full"]
    (tmp_path / "m" / "tessdata").mkdir(parents=True)
    (tmp_path / "m" / "tessdata" / "jpn_full.traineddata").write_bytes(b"model")
    assert models.missing_models(engine) == []  # no stale answer from the first probe
    monkeypatch.setenv("KYODO_MODEL_DIR", str(tmp_path / "other"))
    assert [m.name for m in models.missing_models(engine)] == ["jpn_full"]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_doctor_reports_the_same_missing_model(monkeypatch, tmp_path):
    from automation.doctor import check_tesseract

    monkeypatch.setenv("KYODO_MODEL_DIR", str(tmp_path / "empty"))
    c = check_tesseract()
    assert not c.ok and "jpn_full model missing" in c.detail and c.fix == models.INSTALL_HINT


@pytest.mark.skipif(not models.full_model_installed(), reason="jpn_full not installed (make setup)")
def test_loading_jpn_full_leaves_jpn_page_reading_unchanged():
    from ocr.generate import random_record, render
    from ocr.tessapi import TessApiEngine

    form = np.asarray(render(random_record(random.Random(1)), "a", random.Random(1)).convert("L"))
    small = cv2.resize(form[300:1300], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    api = TessApiEngine()
    before = api.words(small, lang="jpn", psm=11, dpi=70)
    assert api.words(np.full((40, 40), 255, np.uint8), lang=models.FULL_LANG, psm=7, dpi=300) == []
    assert api.words(small, lang="jpn", psm=11, dpi=70) == before
