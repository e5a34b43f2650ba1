"""Output writers: txt, srt, vtt, json, and a minutes draft in docx (Japanese, for the clerk)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from transcription.options import Segment, TranscriptInfo

FORMATS = ("txt", "srt", "vtt", "json", "docx")
JA_FONT = "IPAexGothic"  # installed with the CJK fonts; Word falls back to a Japanese font elsewhere
FLAG_MARK = "※要確認"


def _ts(seconds: float, sep: str = ",") -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _line(seg: Segment) -> str:
    return (f"{seg.speaker}：" if seg.speaker else "") + seg.text


def write_txt(segments: Sequence[Segment], path: Path) -> None:
    path.write_text("".join(_line(s) + "\n" for s in segments), encoding="utf-8")


def write_srt(segments: Sequence[Segment], path: Path) -> None:
    blocks = [f"{i}\n{_ts(s.start)} --> {_ts(s.end)}\n{_line(s)}\n" for i, s in enumerate(segments, 1)]
    path.write_text("\n".join(blocks), encoding="utf-8")


def write_vtt(segments: Sequence[Segment], path: Path) -> None:
    blocks = ["WEBVTT\n"]
    for s in segments:
        voice = f"<v {s.speaker}>" if s.speaker else ""
        blocks.append(f"{_ts(s.start, '.')} --> {_ts(s.end, '.')}\n{voice}{s.text}\n")
    path.write_text("\n".join(blocks), encoding="utf-8")


def write_json(segments: Sequence[Segment], info: TranscriptInfo, path: Path) -> None:
    doc = {
        "source": Path(info.source).name,
        "language": info.language,
        "model": info.model,
        "device": info.device,
        "compute_type": info.compute_type,
        "audio_seconds": round(info.audio_seconds, 3),
        "options": info.options.model_dump(mode="json"),
        "segments": [s.model_dump(mode="json") for s in segments],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def paragraphs(segments: Sequence[Segment], pause: float) -> list[list[Segment]]:
    """Group segments into paragraphs: a new one at a pause or a change of speaker."""
    paras: list[list[Segment]] = []
    for s in segments:
        if paras and s.start - paras[-1][-1].end < pause and s.speaker == paras[-1][-1].speaker:
            paras[-1].append(s)
        else:
            paras.append([s])
    return paras


def _set_font(run, size: float | None = None) -> None:  # noqa: ANN001
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = JA_FONT
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), JA_FONT)
    if size:
        run.font.size = Pt(size)


def write_docx(segments: Sequence[Segment], info: TranscriptInfo, path: Path, *, title: str | None = None,
               pause: float = 2.0) -> None:
    """A minutes draft (会議録 下書き): header table, then timestamped paragraphs by pause/speaker."""
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = JA_FONT
    style.font.size = Pt(10.5)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), JA_FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        st = doc.styles[name]
        st.font.name = JA_FONT
        st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), JA_FONT)

    heading = doc.add_heading(level=0)
    _set_font(heading.add_run(title or f"{Path(info.source).stem} 会議録（下書き）"))
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    flagged = sum(1 for s in segments if s.flagged)
    rows = [
        ("作成日時", now.strftime("%Y年%m月%d日 %H:%M")),
        ("音声ファイル", Path(info.source).name),
        ("録音時間", _hms(info.audio_seconds)),
        ("認識言語・モデル", f"{info.language} ・ {info.model}"),
        ("発言区間", f"{len(segments)} 件（要確認 {flagged} 件）"),
    ]
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for (k, v), row in zip(rows, table.rows):
        for cell, text in zip(row.cells, (k, v)):
            _set_font(cell.paragraphs[0].add_run(text))
    note = doc.add_paragraph()
    speakers = any(s.speaker for s in segments)
    _set_font(note.add_run(f"本書は音声認識による下書きです。「{FLAG_MARK}」の箇所は録音を聞いて確認してください。"
                           + ("発言者名は録音チャンネル（マイク）から推定したものです。" if speakers else "")), 9)
    h = doc.add_heading(level=1)
    _set_font(h.add_run("発言記録"))
    if not segments:
        p = doc.add_paragraph()
        _set_font(p.add_run("（発言は検出されませんでした）"))
    for para in paragraphs(segments, pause):
        p = doc.add_paragraph()
        stamp = p.add_run(f"[{_hms(para[0].start)}] ")
        _set_font(stamp, 9)
        stamp.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
        if para[0].speaker:
            who = p.add_run(f"{para[0].speaker}：")
            _set_font(who)
            who.bold = True
        for s in para:
            r = p.add_run(s.text)
            _set_font(r)
            if s.flagged:
                r.font.highlight_color = WD_COLOR_INDEX.YELLOW
                m = p.add_run(f"（{FLAG_MARK}）")
                _set_font(m, 8)
                m.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    doc.save(str(path))


def write_all(segments: Sequence[Segment], info: TranscriptInfo, out_dir: Path, stem: str,
              formats: Sequence[str], *, title: str | None = None) -> dict[str, Path]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown output format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        tmp = path.with_name(f".{path.name}.part")
        if fmt == "txt":
            write_txt(segments, tmp)
        elif fmt == "srt":
            write_srt(segments, tmp)
        elif fmt == "vtt":
            write_vtt(segments, tmp)
        elif fmt == "json":
            write_json(segments, info, tmp)
        else:
            write_docx(segments, info, tmp, title=title, pause=info.options.pause_paragraph_seconds)
        tmp.replace(path)  # a crash never leaves a half-written output under the final name
        files[fmt] = path
    return files
