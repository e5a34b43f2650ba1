"""Adoption-condition benchmark: under which conditions does transcription pay off, in numbers.

Re-runs recognition on a municipality's own recordings (with reference transcripts) under
controlled degradations (noise of three kinds at several SNRs, far-field reverberation, telephone
band, low bit-rate compression) and with each installed model, then writes a CSV table, a PNG
chart and a plain verdict per condition against configurable thresholds.
"""
from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jiwer
import numpy as np
from pydantic import BaseModel, Field

from transcription import degrade
from transcription.audio import SAMPLE_RATE, load_mono
from transcription.evaluate import CHAR_LANGS, RefEntry, metric_name, normalise
from transcription.options import TranscribeOptions
from transcription.synth import write_wav

SNRS = (30, 20, 10, 5, 0)
NOISE_KINDS = {"white": "白色雑音", "babble": "周囲の話し声", "hum": "空調・電源ハム"}
OTHER = {"clean": "原音（劣化なし）", "reverb": "遠距離マイク（残響）", "telephone": "電話帯域", "lowbitrate": "低ビットレート圧縮"}
VERDICT_GOOD, VERDICT_CHECK, VERDICT_POOR = "導入効果あり", "要確認", "不向き"


class Thresholds(BaseModel):
    good: float = Field(0.10, description="error rate at or below which transcription pays off")
    check: float = Field(0.20, description="error rate at or below which it needs a closer look")

    def verdict(self, err: float) -> str:
        return VERDICT_GOOD if err <= self.good else VERDICT_CHECK if err <= self.check else VERDICT_POOR


class Condition(BaseModel):
    name: str
    label_ja: str
    kind: str
    snr_db: float | None = None


class ConditionRow(BaseModel):
    model: str
    condition: str
    label_ja: str
    kind: str
    snr_db: float | None
    files: int
    metric: str
    error_rate: float
    rtf: float
    verdict: str


def all_conditions(kinds: Sequence[str] | None = None, snrs: Sequence[float] = SNRS) -> list[Condition]:
    conds = [Condition(name="clean", label_ja=OTHER["clean"], kind="clean")]
    for kind, ja in NOISE_KINDS.items():
        conds += [Condition(name=f"{kind}_snr{int(s)}", label_ja=f"{ja} {int(s)}dB", kind=kind, snr_db=s) for s in snrs]
    conds += [Condition(name=k, label_ja=v, kind=k) for k, v in OTHER.items() if k != "clean"]
    if kinds:
        unknown = set(kinds) - {c.kind for c in conds}
        if unknown:
            raise ValueError(f"unknown condition kind(s) {', '.join(sorted(unknown))}; choose from clean, "
                             f"{', '.join(NOISE_KINDS)}, reverb, telephone, lowbitrate")
        conds = [c for c in conds if c.kind in kinds]
    return conds


def apply(cond: Condition, x: np.ndarray, others: list[np.ndarray], seed: int = 0) -> np.ndarray:
    if cond.kind == "clean":
        return x
    if cond.kind == "white":
        return degrade.mix_at_snr(x, degrade.white_noise(len(x), seed), cond.snr_db or 0)
    if cond.kind == "babble":
        return degrade.mix_at_snr(x, degrade.babble(len(x), others or [x], seed=seed), cond.snr_db or 0)
    if cond.kind == "hum":
        return degrade.mix_at_snr(x, degrade.room_hum(len(x), seed=seed), cond.snr_db or 0)
    if cond.kind == "reverb":
        return degrade.far_field(x, seed=seed)
    if cond.kind == "telephone":
        return degrade.telephone(x)
    if cond.kind == "lowbitrate":
        return degrade.low_bitrate(x)
    raise ValueError(cond.kind)


def corpus_error(refs: list[str], hyps: list[str], language: str) -> float:
    r = [normalise(t, language) for t in refs]
    h = [normalise(t, language) for t in hyps]
    pairs = [(a, b) for a, b in zip(r, h) if a]
    if not pairs:
        return 0.0
    ra, ha = [p[0] for p in pairs], [p[1] for p in pairs]
    return float(jiwer.cer(ra, ha) if language in CHAR_LANGS else jiwer.wer(ra, ha))


def run_conditions(files: Sequence[Path], refs: dict[str, RefEntry], models: Sequence[str | None], *,
                   conditions: Sequence[Condition] | None = None, thresholds: Thresholds | None = None,
                   base_options: TranscribeOptions | None = None,
                   log: Callable[[str], None] | None = None) -> list[ConditionRow]:
    """Transcribe every file under every condition with every model; one row per (model, condition)."""
    from transcription.engine import Transcriber

    thresholds = thresholds or Thresholds()
    conditions = list(conditions or all_conditions())
    base_options = base_options or TranscribeOptions()
    items = []
    for f in files:
        ref = refs.get(Path(f).name)
        if ref is None:
            raise ValueError(f"no reference for {Path(f).name} in refs.tsv; add a line 'file<TAB>language<TAB>text'")
        items.append((Path(f), ref, load_mono(Path(f))))
    languages = {ref.language for _, ref, _ in items}
    rows: list[ConditionRow] = []
    with tempfile.TemporaryDirectory(prefix="kyodo-cond-") as tmp:
        for model in models:
            for cond in conditions:
                by_lang: dict[str, tuple[list[str], list[str]]] = {lang: ([], []) for lang in languages}
                wall = audio = 0.0
                for i, (path, ref, x) in enumerate(items):
                    others = [o for j, (_, _, o) in enumerate(items) if j != i] or [x]
                    wav = write_wav(Path(tmp) / f"{i}.wav", apply(cond, x, others, seed=i))
                    opts = base_options.model_copy(update={"model": model, "language": ref.language})
                    t = time.perf_counter()
                    segs, _ = Transcriber(opts).transcribe(wav)
                    sep = "" if ref.language in CHAR_LANGS else " "
                    hyp = sep.join(s.text for s in segs)  # flagged text is still shown to the clerk, so it counts
                    wall += time.perf_counter() - t
                    audio += len(x) / SAMPLE_RATE
                    by_lang[ref.language][0].append(ref.text)
                    by_lang[ref.language][1].append(hyp)
                # One figure per row: weighted by reference length across languages.
                errs, weights = [], []
                for lang, (r, h) in by_lang.items():
                    errs.append(corpus_error(r, h, lang))
                    weights.append(sum(len(normalise(t, lang)) for t in r) or 1)
                err = float(np.average(errs, weights=weights))
                metric = "/".join(sorted({metric_name(lang) for lang in languages}))
                row = ConditionRow(model=str(model or "whisper-base-offline"), condition=cond.name, label_ja=cond.label_ja,
                                   kind=cond.kind, snr_db=cond.snr_db, files=len(items), metric=metric,
                                   error_rate=round(err, 4), rtf=round(wall / audio, 4) if audio else 0.0,
                                   verdict=thresholds.verdict(err))
                rows.append(row)
                if log:
                    log(f"{row.model:22s} {row.condition:16s} {metric} {err:6.1%}  RTF {row.rtf:.3f}  {row.verdict}")
    return rows


def write_csv(rows: Sequence[ConditionRow], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel opens Japanese correctly
        w = csv.DictWriter(f, fieldnames=list(ConditionRow.model_fields))
        w.writeheader()
        for r in rows:
            w.writerow(r.model_dump())
    return path


def plot(rows: Sequence[ConditionRow], path: Path, thresholds: Thresholds | None = None, title: str | None = None) -> Path:
    """Bar chart of error rate per condition (one series per model), threshold bands, Japanese labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    thresholds = thresholds or Thresholds()
    for family in ("IPAexGothic", "Noto Sans CJK JP"):
        if any(f.name == family for f in font_manager.fontManager.ttflist):
            plt.rcParams["font.family"] = family
            break
    models = list(dict.fromkeys(r.model for r in rows))
    conds = list(dict.fromkeys(r.condition for r in rows))
    labels = {r.condition: r.label_ja for r in rows}
    fig, ax = plt.subplots(figsize=(max(8, 0.55 * len(conds) + 3), 5.5), dpi=110)
    width = 0.8 / len(models)
    ymax = max([r.error_rate for r in rows] + [thresholds.check]) * 1.15
    ax.axhspan(0, thresholds.good, color="#d8f0d8", zorder=0, label=f"{VERDICT_GOOD}（≦{thresholds.good:.0%}）")
    ax.axhspan(thresholds.good, thresholds.check, color="#fff2c8", zorder=0, label=f"{VERDICT_CHECK}（≦{thresholds.check:.0%}）")
    ax.axhspan(thresholds.check, max(ymax, thresholds.check * 1.05), color="#f8d8d8", zorder=0, label=VERDICT_POOR)
    for i, m in enumerate(models):
        vals = {r.condition: r.error_rate for r in rows if r.model == m}
        xs = np.arange(len(conds)) + (i - (len(models) - 1) / 2) * width
        bars = ax.bar(xs, [vals.get(c, np.nan) for c in conds], width, label=m, zorder=2)
        ax.bar_label(bars, labels=[f"{vals[c]:.0%}" if c in vals else "" for c in conds], fontsize=7, padding=2)
    ax.set_xticks(np.arange(len(conds)))
    ax.set_xticklabels([labels[c] for c in conds], rotation=45, ha="right", fontsize=9)
    metric = rows[0].metric if rows else "CER"
    ax.set_ylabel(f"誤り率（{metric}）")
    ax.set_ylim(0, ymax)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(title or "録音条件別の文字起こし精度（導入判定）")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3, zorder=1)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
