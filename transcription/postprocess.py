"""Minutes-style cleanup after recognition, each step switchable in TranscribeOptions.

Order matters: repetition loops are collapsed first (they are decoder artefacts, not speech),
then fillers (ケバ取り) are removed, numbers normalised, the replacement dictionary (置換辞書)
applied, and finally Japanese punctuation added where base Whisper emits none.
"""
from __future__ import annotations

import re
import unicodedata

# ケバ取り: fillers that carry no content in minutes. "あの"/"その"/"まあ" are also ordinary words
# (あの人, その件), so they are removed only when lengthened (あのー) or followed by a pause mark.
_JA_FILLERS = re.compile(
    r"(?:えー+っと|えっと|ええと|えーと|えー+|ええ+(?=[、,\s])|あのー+|あの(?=[、,\s])|そのー+|"
    r"まあ(?=[、,\s])|まー+|うーん+|うん(?=[、,\s])|んー+|あー+|おー+(?=[、,\s]))[、,]?\s*"
)
_EN_FILLERS = re.compile(r"\b(?:u+h+|u+m+|e+r+m*|h+m+)\b[,.]?\s*", re.IGNORECASE)
# Sentence-final forms after which a space in Japanese output is a sentence boundary.
_JA_SENTENCE_END = re.compile(r"(です|ます|ました|でした|ません|ください|でしょう|ましょう|である|だった|します)\s+(?=\S)")
_CJK = r"\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])[ \u3000]+(?=[{_CJK}])")
_JA_END_PUNCT = tuple("。．？！?!」』）)…")
# The same 1–20 characters (or words) repeated four times or more in a row: a decoder loop.
_REPEAT = re.compile(r"(.{1,20}?)(?:[\s、,]*\1){3,}")
# Whisper's well-known inventions on silence or music (trained on subtitled videos).
KNOWN_HALLUCINATIONS = (
    "ご視聴ありがとうございました", "チャンネル登録", "最後までご視聴", "おやすみなさい",
    "字幕", "Thank you for watching", "Thanks for watching", "Subtitles by",
)


def collapse_repetitions(text: str) -> tuple[str, bool]:
    """Replace a run of 4+ repeats by one occurrence; report whether any was found."""
    new = _REPEAT.sub(r"\1", text)
    return new, new != text


def is_known_hallucination(text: str) -> bool:
    t = text.strip()
    return any(h.lower() in t.lower() for h in KNOWN_HALLUCINATIONS) and len(t) <= 30


def remove_fillers(text: str, language: str) -> str:
    text = _JA_FILLERS.sub("", text) if language == "ja" else text
    return _EN_FILLERS.sub("", text).strip()


def normalise_numbers(text: str) -> str:
    """Full-width digits, letters and signs to half-width (１０時 → 10時); kanji numerals are kept
    because 一人・一番 are words, not numbers."""
    return "".join(unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" and ch not in "（）！？、。" else ch for ch in text)


def apply_replacements(text: str, replacements: dict[str, str]) -> str:
    # Longest key first, so 「長野市役所」 wins over 「長野」.
    for key in sorted(replacements, key=len, reverse=True):
        if key:
            text = text.replace(key, replacements[key])
    return text


def punctuate_ja(text: str) -> str:
    """Spaces the decoder left between Japanese phrases become 。 (after a sentence-final form) or 、."""
    text = _JA_SENTENCE_END.sub(r"\1。", text)
    return _CJK_SPACE.sub("、", text).strip()


_JA_FINAL = re.compile(r"(です|ます|ました|でした|ません|ください|でしょう|ましょう|である|だった|します|ね|よ)$")


_JA_CONTINUES = re.compile(r"(が|を|に|は|で|と|へ|も|の|や|から|まで|より|けど|けれど|ので|のに|ながら|て|で|し|たり|ば)$")


def close_sentence_ja(text: str, pause_after: float | None, pause: float = 0.8) -> str:
    """Base Whisper often ends a Japanese segment without punctuation. Segments also end mid-sentence,
    so 。 is added only after a sentence-final form, a real pause, or at the very end."""
    if not text or text.endswith(_JA_END_PUNCT) or not re.search(rf"[{_CJK}]$", text):
        return text
    if _JA_FINAL.search(text) or pause_after is None:
        return text + "。"
    if pause_after >= pause:
        # A speaker pauses mid-sentence after a particle or a te-form (「この機械が」「計るかどうかを」):
        # that is a comma, not a full stop.
        return text + ("、" if _JA_CONTINUES.search(text) else "。")
    return text


def clean(text: str, *, language: str, fillers: bool, numbers: bool, punctuation: bool,
          replacements: dict[str, str]) -> str:
    text = text.strip()
    if fillers:
        text = remove_fillers(text, language)
    if numbers:
        text = normalise_numbers(text)
    if replacements:
        text = apply_replacements(text, replacements)
    if punctuation and language == "ja":
        text = punctuate_ja(text)
    return re.sub(r"^[、,。\s]+", "", text).strip()
