"""read_document: file -> pages -> normalised page -> classification -> fields -> FormResults.

The pipeline talks to Tesseract only through an :class:`~ocr.engine.OcrEngine`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ocr.engine import OcrEngine, default_engine
from ocr.fields import FieldInput, checkbox_field, choice_field, cross_checks, reading_kind, text_field
from ocr.layout import PageLayout, analyse
from ocr.loading import load_pages
from ocr.locate import Located, Target, locate
from ocr.normalize import normalise_page_turns, rotate90
from ocr.reading import Reading, hconcat, read_each, read_strip, split_at_gap
from ocr.results import Box, Doubt, FieldResult, FieldType, FormResult
from ocr.templates import FormTemplate
from ocr import register

INSET = 7  # pixels trimmed inside a cell so its ruled border never reaches the reader


class DocumentRead(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    source: str
    page_count: int
    forms: list[FormResult] = Field(default_factory=list)
    pages: list[np.ndarray] = Field(default_factory=list, repr=False, description="normalised page images; boxes are in their pixels")
    rotations: list[int] = Field(default_factory=list, description="quarter turns applied to each page to make it upright")


@dataclass
class Classified:
    template: FormTemplate | None
    score: float
    layout: PageLayout
    located: Located | None
    quarter_turns: int


def _classify_layout(layout: PageLayout, templates: list[FormTemplate]) -> tuple[FormTemplate | None, float, Located | None, PageLayout]:
    """The fitting template with the highest priority, then score; (None, best score) when none fits."""
    best: tuple[FormTemplate | None, float, Located | None, PageLayout] = (None, 0.0, None, layout)
    top_score = 0.0
    for tpl in sorted(templates, key=lambda t: -t.priority):
        if best[0] is not None and best[0].priority > tpl.priority:
            break  # a higher-priority template already fits; registration would be wasted time
        if tpl.kind == "label":
            loc = locate(tpl, layout)
            score, lay = loc.score, layout
        else:
            reg = register.register_to(tpl, layout.image)
            if reg is None:
                continue
            score = reg.score
            lay = register.layout_for(reg.image, layout, reg.matrix)
            loc = register.locate_zones(tpl, lay)
        top_score = max(top_score, score)
        if score < tpl.min_score:
            continue
        cur = best[0]
        if cur is None or (tpl.priority, score) > (cur.priority, best[1]):
            best = (tpl, score, loc, lay)
    if best[0] is None:
        return (None, top_score, None, layout)
    return best


def classify_page(image: np.ndarray, templates: list[FormTemplate], engine: OcrEngine) -> Classified:
    """Decide the form and the orientation. 180° is only tried when upright fits badly."""
    tried: list[Classified] = []
    for turns in (0, 2):
        img = rotate90(image, turns)
        layout = analyse(img, engine)
        tpl, score, loc, lay = _classify_layout(layout, templates)
        tried.append(Classified(tpl, score, lay, loc, turns))
        if tpl is not None and score >= max(tpl.min_score, 0.75):
            break
        if tpl is None and layout.mean_conf >= 80 and len(layout.words) > 20:
            break  # clearly upright text, just not a form we know
    return max(tried, key=lambda c: (c.template is not None, c.score))


def read_document(path: Path, templates: list[FormTemplate], *, dpi: int = 300, engine: OcrEngine | None = None) -> DocumentRead:
    """Read every page of ``path``; one FormResult per page (template None when no template fits)."""
    engine = engine or default_engine()
    path = Path(path)
    raw_pages = load_pages(path, dpi=dpi)
    doc = DocumentRead(source=path.name, page_count=len(raw_pages))
    for idx, page in enumerate(raw_pages):
        norm, turns = normalise_page_turns(page.image, page.dpi)
        c = classify_page(norm, templates, engine)
        doc.pages.append(c.layout.image)
        doc.rotations.append((turns + c.quarter_turns) % 4)
        if c.template is None or c.located is None:
            doc.forms.append(FormResult(source=path.name, template=None, classification_score=round(c.score, 3), page_indices=[idx],
                                        status="needs_review",
                                        reasons=[f"{idx + 1}ページ目はどの帳票定義にも一致しません（一致度 {c.score:.0%}）。帳票の種類を確認してください。"]))
            continue
        form = read_fields(c.template, c.layout, c.located, engine, page_index=idx)
        form.source = path.name
        form.classification_score = round(c.score, 3)
        doc.forms.append(form)
    return doc


def _crop(img: np.ndarray, c, inset: int = INSET) -> np.ndarray:
    return img[c.y + inset: c.y + c.h - inset, c.x + inset: c.x + c.w - inset]


def _target_crop(clean: np.ndarray, t: Target) -> np.ndarray:
    if t.parts:
        # Digit boxes are small and their borders' remains read as '1': cut deeper inside.
        return hconcat([_crop(clean, p, max(INSET, int(0.12 * min(p.w, p.h)))) for p in t.parts])
    return _crop(clean, t.box)


def _field_crop(img: np.ndarray, t: Target, two_part: bool) -> np.ndarray:
    crop = _target_crop(img, t)
    if two_part:
        halves = split_at_gap(crop)
        if halves is not None:
            # Widen the family/given-name space so Tesseract keeps it as a word break.
            crop = hconcat(list(halves), gap=max(halves[0].shape[0], 40))
    return crop


def _second(layout: PageLayout, t: Target) -> str:
    from ocr.layout import join_words

    return join_words(layout.words_in(t.box))


def read_fields(tpl: FormTemplate, layout: PageLayout, located: Located, engine: OcrEngine, *, page_index: int = 0) -> FormResult:
    clean = layout.clean()
    grey = layout.grey_clean()
    rechecks: dict[str, dict[str, np.ndarray]] = {}
    requests: dict[str, dict[str, np.ndarray]] = {}
    inputs: dict[str, FieldInput] = {}

    def want(key: str, name: str, ftype: FieldType, label: str, required: bool, length: int | None, t: Target | None) -> None:
        inputs[key] = FieldInput(name, ftype, label, required, length, t, None, _second(layout, t) if t else None)
        if t is None:
            return
        two_part = ftype == FieldType.kana or (ftype == FieldType.text and name.endswith("name"))
        requests.setdefault(reading_kind(ftype), {})[key] = _field_crop(clean, t, two_part)
        # Tesseract is sometimes confidently wrong (宮->富, 0->6); a second look at the
        # greyscale page (Tesseract's own binarisation) turns most of those into a disagreement.
        rechecks.setdefault(reading_kind(ftype), {})[key] = _field_crop(grey, t, two_part)

    for spec in tpl.fields:
        if spec.type in (FieldType.checkbox, FieldType.choice):
            continue
        if spec.type == FieldType.table:
            for r, row in enumerate(located.tables.get(spec.name, [])):
                for col in spec.columns:
                    if col.type in (FieldType.checkbox, FieldType.choice):
                        continue
                    want(f"{spec.name}.{r}.{col.name}", col.name, col.type, col.labels[0] if col.labels else col.name,
                         col.required, None, row.get(col.name))
            continue
        want(spec.name, spec.name, spec.type, spec.label or spec.name, spec.required, spec.length, located.fields.get(spec.name))

    # The re-reads ride in the same strip as the first reads: one Tesseract process per kind.
    readings: dict[str, Reading] = {}
    for kind, crops in requests.items():
        if kind == "digits":
            # Codes: first reading one crop at a time (most accurate); the re-reads share one strip.
            readings.update(read_each(engine, kind, crops))
            readings.update(read_strip(engine, kind, {f"{key}#re": crop for key, crop in rechecks.get(kind, {}).items()}))
            continue
        both = dict(crops)
        both.update({f"{key}#re": crop for key, crop in rechecks.get(kind, {}).items()})
        readings.update(read_strip(engine, kind, both))
    recheck = {key[:-3]: readings.pop(key) for key in [k for k in readings if k.endswith("#re")]}
    for key, fi in inputs.items():
        fi.reading = readings.get(key)
        fi.recheck = recheck.get(key)

    form = FormResult(source="", template=tpl.id, page_indices=[page_index])
    for spec in tpl.fields:
        label = spec.label or spec.name
        if spec.type == FieldType.checkbox:
            form.fields[spec.name] = checkbox_field(spec.name, label, layout.bw, located.fields.get(spec.name), page_index)
        elif spec.type == FieldType.choice:
            form.fields[spec.name] = choice_field(spec.name, label, spec.options, layout.bw, located.fields.get(spec.name), page_index)
        elif spec.type == FieldType.table:
            form.fields[spec.name] = _table_field(spec, located.tables.get(spec.name, []), inputs, layout, page_index)
        else:
            form.fields[spec.name] = text_field(inputs[spec.name], page_index)
    cross_checks(form.fields)
    doubtful = form.doubtful_fields()
    form.status = "needs_review" if doubtful else "ready"
    if doubtful:
        form.reasons.append("確認が必要な項目: " + "、".join(form.fields[n].label or n for n in doubtful))
    return form


def _table_field(spec, rows: list[dict[str, Target]], inputs: dict[str, FieldInput], layout: PageLayout, page: int) -> FieldResult:
    fr = FieldResult(name=spec.name, type=FieldType.table, label=spec.label or spec.name, rows=[], value=[], confidence=1.0)
    if not rows:
        fr.reasons.append(Doubt.not_found)
        fr.messages.append(f"「{fr.label}」の表が見つかりません")
        fr.confidence = 0.0
        return fr
    boxes = [t.box for row in rows for t in row.values()]
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    x1, y1 = max(b.x + b.w for b in boxes), max(b.y + b.h for b in boxes)
    fr.box = Box(page=page, x=x0, y=y0, w=x1 - x0, h=y1 - y0)
    for r, row in enumerate(rows):
        cells: dict[str, FieldResult] = {}
        texts_blank = True
        for col in spec.columns:
            key = f"{spec.name}.{r}.{col.name}"
            if col.type == FieldType.checkbox:
                cells[col.name] = checkbox_field(col.name, col.labels[0] if col.labels else col.name, layout.bw, row.get(col.name), page)
                continue
            fi = inputs[key]
            if fi.reading and fi.reading.text.strip():
                texts_blank = False
            cells[col.name] = text_field(fi, page)
        if texts_blank:
            continue  # an unused row of the table
        fr.rows.append(cells)
        fr.value.append({k: v.value for k, v in cells.items()})
    if not fr.rows:
        fr.reasons.append(Doubt.missing_required)
        fr.messages.append("児童の記入がありません")
    fr.confidence = min([c.confidence for row in fr.rows for c in row.values()] or [0.0])
    return fr
