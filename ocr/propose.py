"""Propose a label-located template from an image of a blank form (for an author to edit).

Labels are cells with printed text whose right-hand neighbour is empty; the field type
is guessed from the label wording; cells holding checkbox squares become checkboxes or
choices with the option texts beside the squares.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from ocr.engine import OcrEngine, default_engine
from ocr.grid import find_squares
from ocr.layout import analyse, join_words, norm_label
from ocr.loading import load_pages
from ocr.locate import right_of
from ocr.normalize import normalise_page

TYPE_HINTS = [("個人番号", "my_number"), ("マイナンバー", "my_number"), ("郵便", "postal_code"), ("〒", "postal_code"),
              ("電話", "phone"), ("フリガナ", "kana"), ("ふりがな", "kana"), ("年月日", "date_wareki"), ("日付", "date_wareki"),
              ("提出日", "date_wareki"), ("番号", "digits")]


def guess_type(label: str) -> str:
    return next((t for key, t in TYPE_HINTS if key in label), "text")


def propose(blank: Path, *, form_id: str = "new_form", name: str = "新しい帳票", engine: OcrEngine | None = None) -> dict:
    page = load_pages(blank)[0]
    layout = analyse(normalise_page(page.image, page.dpi), engine or default_engine())
    fields = []
    seen: set[str] = set()
    for i, cell in enumerate(layout.cells):
        text = norm_label(layout.cell_text(i))
        if len(text) < 2 or text in seen:
            continue
        target = right_of(layout, cell)
        if target is None:
            continue
        inside = layout.words_in(target.box)
        squares = find_squares(layout.bw, target.box)
        n = len(fields) + 1
        if squares:
            options = []
            for k, sq in enumerate(squares):
                end = squares[k + 1].x if k + 1 < len(squares) else target.box.x + target.box.w
                options.append(norm_label(join_words([w for w in inside if sq.x + sq.w <= w.cx < end])))
            ftype = "choice" if len(squares) > 1 else "checkbox"
            spec = {"name": f"field_{n}", "type": ftype, "label": text, "locator": {"kind": "label", "labels": [text]}}
            if ftype == "choice":
                spec["options"] = [o for o in options if o]
        elif inside:
            continue  # the neighbour has printed text: it is not an empty value cell
        else:
            spec = {"name": f"field_{n}", "type": guess_type(text), "label": text, "locator": {"kind": "label", "labels": [text]}}
        seen.add(text)
        fields.append(spec)
    return {"id": form_id, "name": name, "kind": "label", "description": f"proposed from {Path(blank).name}; rename fields and check types",
            "fields": fields}


def propose_yaml(blank: Path, **kw) -> str:
    return yaml.safe_dump(propose(blank, **kw), allow_unicode=True, sort_keys=False)
