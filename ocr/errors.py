"""Typed errors for bad input: English ``str(e)`` for logs, ``message_ja`` for the clerk's reason file.

Messages never contain field values (a My Number must not reach a log).
"""
from __future__ import annotations


class OcrError(Exception):
    """Base of every error the OCR engine raises on purpose."""

    message_ja: str = "OCR処理でエラーが発生しました。"

    def __init__(self, message: str, message_ja: str | None = None) -> None:
        super().__init__(message)
        if message_ja is not None:
            self.message_ja = message_ja


class OcrInputError(OcrError):
    """The file cannot be read as a scan."""

    message_ja = "ファイルをスキャン画像として読み込めません。"


class CorruptFileError(OcrInputError):
    message_ja = "ファイルが壊れているため読み込めません。スキャンし直して再投入してください。"


class EncryptedFileError(OcrInputError):
    message_ja = "PDFにパスワードが設定されているため読み込めません。パスワードを外して再投入してください。"


class EmptyFileError(OcrInputError):
    message_ja = "ファイルが空か、ページがありません。スキャンし直して再投入してください。"


class TooLargeError(OcrInputError):
    message_ja = "画像が大きすぎます（ページ数または画素数が上限を超えています）。解像度300dpi程度でスキャンし直してください。"


class UnsupportedFormatError(OcrInputError):
    message_ja = "対応していないファイル形式です。PDF、TIFF、PNG、JPEGで投入してください。"


class EngineError(OcrError):
    """Tesseract failed (crash, timeout, missing executable); the document may be retried."""

    message_ja = "OCRエンジンの実行に失敗しました。しばらくしてから再処理してください。"


class TemplateError(OcrError):
    """A form template file is invalid."""

    message_ja = "帳票定義ファイルに誤りがあります。"
