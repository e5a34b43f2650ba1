"""Text processing without the model: normaliser, cleanup, loops, glossary and refs files."""
from __future__ import annotations

from pathlib import Path

import pytest

from transcription import postprocess
from transcription.engine import _collapse_word_loops, _split_words, _locate
from transcription.evaluate import error_rate, load_refs, normalise
from transcription.vocab import load_glossary


def test_normaliser_ja_removes_punctuation_spaces_and_width() -> None:
    assert normalise("これは、テスト文です。 ＡＢＣ１２３！", "ja") == "これはテスト文ですabc123"
    assert error_rate("これはテスト文です", "これは テスト 分です。", "ja") == pytest.approx(1 / 9)


def test_normaliser_en_keeps_inner_apostrophe() -> None:
    assert normalise("Ask not, what YOUR country's 'best' can do!", "en") == "ask not what your country's best can do"
    assert error_rate("ask not what your country", "Ask not what my country.", "en") == pytest.approx(1 / 5)


def test_fillers_removed_but_words_kept() -> None:
    text = "えーと、本日の議題は、あのー、予算です。あの件はえっと来週です。"
    assert postprocess.remove_fillers(text, "ja") == "本日の議題は、予算です。あの件は来週です。"
    assert postprocess.remove_fillers("Um, the budget is, uh, approved.", "en") == "the budget is, approved."


def test_replacements_longest_first_and_numbers() -> None:
    out = postprocess.apply_replacements("ながの市やくしょとながの", {"ながの": "長野", "ながの市やくしょ": "長野市役所"})
    assert out == "長野市役所と長野"
    assert postprocess.normalise_numbers("午前１０時、第３会議室") == "午前10時、第3会議室"


def test_japanese_punctuation() -> None:
    assert postprocess.punctuate_ja("これはテストです この機械が 日本語を") == "これはテストです。この機械が、日本語を"
    assert postprocess.close_sentence_ja("聞き取れています", 0.1) == "聞き取れています。"
    assert postprocess.close_sentence_ja("この機械が", 0.1) == "この機械が"  # mid-sentence, no pause
    assert postprocess.close_sentence_ja("この機械が", 1.5) == "この機械が、"  # a pause after a particle
    assert postprocess.close_sentence_ja("会議を終了", 1.5) == "会議を終了。"  # a pause after a noun ends it
    assert postprocess.close_sentence_ja("OK", None) == "OK"


def test_repetition_loops_collapsed() -> None:
    text, found = postprocess.collapse_repetitions("ありがとうございます。ありがとうございます。ありがとうございます。ありがとうございます。")
    assert found and text == "ありがとうございます。"
    assert postprocess.collapse_repetitions("はいはい、そうです")[1] is False
    words = [{"word": w, "start": i, "end": i + 0.5, "probability": 0.9} for i, w in enumerate("a b c b c b c b c d".split())]
    kept, found = _collapse_word_loops(words)
    assert found and [w["word"] for w in kept] == ["a", "b", "c", "d"]


def test_known_hallucination() -> None:
    assert postprocess.is_known_hallucination("ご視聴ありがとうございました")
    assert not postprocess.is_known_hallucination("本日はご出席ありがとうございました")


def test_locate_maps_packed_time_back() -> None:
    spans = [(16000, 32000), (64000, 80000)]  # 1–2 s and 4–5 s
    assert _locate(0.5, spans)[0] == pytest.approx(1.5)
    assert _locate(1.5, spans) == (pytest.approx(4.5), 1)  # spans are packed back to back


def test_split_words_at_pause() -> None:
    words = [{"word": w, "start": s, "end": s + 0.3, "probability": 0.9} for w, s in [("今日", 0.0), ("は", 0.3), ("晴れ", 2.0)]]
    segs = _split_words(words, {"avg_logprob": -0.2, "no_speech_prob": 0.0, "compression_ratio": 1.0}, "ja")
    assert [s["text"] for s in segs] == ["今日は", "晴れ"]


def test_glossary_file(tmp_path: Path) -> None:
    f = tmp_path / "g.txt"
    f.write_text("# 長野市の用語\n長野市議会\nながのしぎかい => 長野市議会\nおぶせ\t小布施町\n\n", encoding="utf-8")
    v = load_glossary(f)
    assert v.terms == ["長野市議会", "小布施町"]
    assert v.replacements == {"ながのしぎかい": "長野市議会", "おぶせ": "小布施町"}


def test_refs_file(tmp_path: Path) -> None:
    f = tmp_path / "refs.tsv"
    f.write_text("file\tlanguage\ttext\na.wav\tja\tこんにちは\nb.wav\ten\tHello there\nc.wav\tさようなら\n", encoding="utf-8")
    refs = load_refs(f)
    assert refs["a.wav"].language == "ja" and refs["b.wav"].text == "Hello there" and refs["c.wav"].language == "ja"
    f.write_text("a.wav\tja\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match="refs.tsv:1"):
        load_refs(f)
