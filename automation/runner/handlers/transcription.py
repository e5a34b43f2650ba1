"""``transcription``: an audio file from the inbox becomes minutes in outbox/<name>/."""
from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from automation.intake import finish_document, result_path
from tenants.models import Document
from tenants.settings import get_settings

from .base import ApplicationError, BusinessError, JobContext, Outcome, require_document


def handle(ctx: JobContext) -> Outcome:
    try:
        from transcription import AudioError, ModelError, TranscribeOptions, transcribe_file
    except ImportError as e:
        raise ApplicationError(f"the transcription engine is not installed: {e}", "文字起こしエンジンがインストールされていません。") from None
    doc = require_document(ctx, "a transcription", "文字起こし対象のファイル")
    ts = ctx.tenant.transcription
    options = TranscribeOptions(language=ts.language, model=ts.model, glossary=ts.glossary,
                                replacements=ts.replacements, remove_fillers=ts.remove_fillers)
    src = Path(doc.path)
    out_dir = result_path(ctx.folders, doc)
    try:
        res = transcribe_file(src, out_dir, options=options, title=Path(doc.filename).stem,
                              model_dir=get_settings().resolved_model_dir)
    except AudioError as e:
        raise BusinessError(str(e), getattr(e, "message_ja", "") or "音声ファイルを読み込めません。") from None
    except ModelError as e:
        raise ApplicationError(str(e), getattr(e, "message_ja", "") or "文字起こしモデルを利用できません。管理者に連絡してください。") from None
    usage = [ctx.usage("asr.audio_seconds", round(float(res.audio_seconds), 3), "", {"file": doc.filename, "language": res.language})]
    result = {"audio_seconds": res.audio_seconds, "language": res.language, "segments": res.segments,
              "flagged_segments": res.flagged_segments, "files": {k: str(v) for k, v in res.files.items()}}

    def apply(session: Session) -> None:
        d = session.get(Document, doc.id)  # re-read: this may run again after a rolled-back attempt
        if d is not None:
            finish_document(session, d, outcome="done", tenant=ctx.tenant)

    return Outcome(result=result, usage=usage, apply=apply)
