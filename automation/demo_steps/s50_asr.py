"""Meeting transcription on the embedded default: offline base model, minutes draft, CER and RTF."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from automation.demo import DemoContext, StepSummary

ORDER = 50
SHARED_CLIP = Path(__file__).resolve().parents[2].parent / "shared" / "audio" / "ja_read_test.wav"
JA_REF = "これはテスト文ですこの機械が日本語をちゃんと聞き取れているかどうかを計ります"
FALLBACK_TEXT = "本日の会議を始めます。議題は予算についてです。"


def _clip(workdir: Path) -> tuple[Path, str, str]:
    if SHARED_CLIP.is_file():
        return SHARED_CLIP, JA_REF, "ja_read_test.wav (real read speech)"
    # A user's clone has no ../shared: synthesise a clip (espeak-ng's Japanese is crude, so the CER is only indicative).
    if not shutil.which("espeak-ng"):
        raise RuntimeError("no test audio: ../shared/audio is absent and espeak-ng is not installed")
    wav = workdir / "espeak_ja.wav"
    subprocess.run(["espeak-ng", "-v", "ja", "-w", str(wav), FALLBACK_TEXT], check=True, capture_output=True, timeout=30)
    return wav, FALLBACK_TEXT, "espeak-ng synthetic clip (../shared absent)"


def run(ctx: DemoContext) -> StepSummary:
    from transcription import TranscribeOptions, transcribe_file
    from transcription.evaluate import error_rate

    s = StepSummary(title="文字起こし Transcription: offline Whisper base, minutes draft")
    out = ctx.workdir / "asr"
    out.mkdir(parents=True, exist_ok=True)
    clip, ref, what = _clip(out)
    r = transcribe_file(clip, out, options=TranscribeOptions(), title="デモ会議 会議録（下書き）",
                        model_dir=ctx.settings.resolved_model_dir)
    cer = error_rate(ref, r.text, "ja")
    s.lines.append(f"{what}: {r.audio_seconds:.1f} s in {r.seconds:.1f} s (RTF {r.rtf:.2f}), CER {cer:.1%}, model {r.model}")
    s.lines.append(f"text: {r.text[:60]}")
    s.lines.append(f"outputs: {', '.join(p.name for p in r.files.values())} in {out}")
    ctx.shared["asr_cer"] = cer
    if cer > 0.10 and clip == SHARED_CLIP:
        s.ok = False
        s.lines.append(f"CER {cer:.1%} is above the 10% target")
    return s
