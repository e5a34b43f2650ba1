"""Kyodo OCR engine: scans in, FormResults out. Knows nothing of tenants or databases."""
from ocr.pipeline import DocumentRead, read_document
from ocr.templates import FormTemplate, load_templates

__all__ = ["DocumentRead", "FormTemplate", "load_templates", "read_document"]
