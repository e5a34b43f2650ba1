"""A long recording streams in bounded memory; the adoption-condition benchmark writes its table and chart."""
from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.transcription.conftest import JA_REF
from transcription import TranscribeOptions
from transcription.audio import SAMPLE_RATE
from transcription.conditions import VERDICT_GOOD, Thresholds, all_conditions, plot, run_conditions, write_csv
from transcription.evaluate import RefEntry
from transcription.synth import concat_stream


def _peak_python_memory(transcriber, path: Path, opts: TranscribeOptions) -> tuple[int, int]:  # noqa: ANN001
    tracemalloc.start()
    try:
        segs, _ = transcriber.transcribe(path, options=opts)
        n = sum(1 for _ in segs)  # consume lazily, as a caller streaming hours would
        return tracemalloc.get_traced_memory()[1], n
    finally:
        tracemalloc.stop()


def test_long_file_memory_is_flat(transcriber, ja_clip: np.ndarray, tmp_path: Path) -> None:  # noqa: ANN001
    """2 and 4 minutes (one sentence a minute, the rest quiet room), 60 s windows: peak Python memory
    must not grow with length (holding the file would add 7.7 MB per extra 2 minutes)."""
    opts = TranscribeOptions(window_seconds=60)
    peaks = {}
    for minutes in (2, 4):
        path = tmp_path / f"long{minutes}.wav"
        concat_stream(path, [ja_clip], minutes * 60, iter([60 - len(ja_clip) / SAMPLE_RATE] * 100))
        peaks[minutes], n = _peak_python_memory(transcriber, path, opts)
        assert n >= minutes  # every sentence was heard
    extra_two_minutes = 2 * 60 * SAMPLE_RATE * 4  # float32 bytes a whole-file decoder would add
    assert peaks[4] - peaks[2] < extra_two_minutes / 4, peaks
    assert peaks[4] < 64_000_000, peaks


def test_conditions_table_and_chart(transcriber, audio_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    refs = {"ja_read_test.wav": RefEntry(file="ja_read_test.wav", language="ja", text=JA_REF)}
    conds = [c for c in all_conditions(["clean", "white", "telephone"], snrs=(0,))]
    rows = run_conditions([audio_dir / "ja_read_test.wav"], refs, [None], conditions=conds, thresholds=Thresholds())
    by = {r.condition: r for r in rows}
    assert list(by) == ["clean", "white_snr0", "telephone"]
    assert by["clean"].error_rate <= 0.10 and by["clean"].verdict == VERDICT_GOOD
    assert by["white_snr0"].error_rate > by["clean"].error_rate  # 0 dB white noise must hurt
    csv_path = write_csv(rows, tmp_path / "c.csv")
    with csv_path.open(encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    assert [t["condition"] for t in table] == list(by) and table[0]["verdict"] == VERDICT_GOOD
    png = plot(rows, tmp_path / "c.png")
    from PIL import Image

    with Image.open(png) as im:
        assert im.size[0] > 600 and im.size[1] > 400


def test_cli_models_and_eval(transcriber, audio_dir: Path, tmp_path: Path, data_root: Path) -> None:  # noqa: ANN001
    from automation.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["asr", "models"])
    assert res.exit_code == 0, res.output
    assert "whisper-base-offline" in res.output and "verified" in res.output
    refs = tmp_path / "refs.tsv"
    refs.write_text(f"jfk.flac\ten\tAnd so my fellow Americans, ask not what your country can do for you\n"
                    f"missing.wav\tja\t{JA_REF}\n", encoding="utf-8")
    res = runner.invoke(app, ["asr", "eval", "--audio", str(audio_dir), "--refs", str(refs)])
    assert res.exit_code == 1  # the missing file is reported, the rest still evaluated
    assert "overall" in res.output and "WER" in res.output
    res = runner.invoke(app, ["asr", "transcribe", str(audio_dir / "jfk.flac"), "--language", "en",
                              "--format", "txt,srt", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "fellow Americans" in (tmp_path / "o" / "jfk.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("bad", ["white,unknown"])
def test_unknown_condition_kind(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown condition"):
        all_conditions(bad.split(","))
