"""Layout memory: a page of a layout read before skips its written values in the layout pass,
and reads exactly as it would in full (real Tesseract, generated scans of both variants)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr import read_document
from ocr.engine import default_engine
from ocr.grid import Cell
from ocr.loading import load_pages
from ocr.locate import Located, Target
from ocr.memory import LayoutMemory
from ocr.normalize import normalise_page_turns
from ocr.pipeline import classify_page


def _outcome(doc) -> list:
    return [(f.template, f.status, {k: (v.value, sorted(v.reasons), v.box) for k, v in f.fields.items()}) for f in doc.forms]


def _page(path) -> np.ndarray:
    page = load_pages(path)[0]
    return normalise_page_turns(page.image, page.dpi)[0]


def _files(scan_set) -> list:
    folder, lines = scan_set
    return [folder / name for name in sorted({line["file"] for line in lines})]


def test_a_known_layout_reads_the_same_with_its_values_skipped(scan_set, label_templates):
    files = _files(scan_set)
    full = [_outcome(read_document(f, label_templates, memory=None)) for f in files]
    memory = LayoutMemory()
    first = [_outcome(read_document(f, label_templates, memory=memory)) for f in files]
    again = [_outcome(read_document(f, label_templates, memory=memory)) for f in files]
    assert first == full and again == full
    # Two scans per layout variant: the second of each in the first round, all in the second.
    assert memory.hits >= len(files) + 2 and memory.fallbacks == 0


def test_the_shortened_pass_reads_no_text_value_and_keeps_labels_codes_and_options(scan_set, label_templates):
    page = _page(_files(scan_set)[0])
    engine, memory = default_engine(), LayoutMemory()
    learnt = classify_page(page, label_templates, engine, memory)
    short = classify_page(page, label_templates, engine, memory)
    assert memory.hits == 1
    text = "".join(w.text for w in short.layout.words)
    assert len(text) < 0.8 * len("".join(w.text for w in learnt.layout.words))
    name = short.located.fields["recipient_name"]
    assert not short.layout.words_in(name.box) and learnt.layout.words_in(name.box)
    assert short.layout.words_in(name.label_box)  # the label is still read on this page
    assert short.layout.words_in(short.located.fields["postal_code"].box)  # a code's fourth reading
    options = [[o.replace(" ", "") for o in c.located.fields["pension_type"].options] for c in (short, learnt)]
    assert options[0] == options[1] and len(options[0]) == 3  # a choice's options are still read


def test_an_upside_down_page_of_a_known_layout_is_read_at_180_first(scan_set, label_templates):
    page = _page(_files(scan_set)[0])
    engine, memory = default_engine(), LayoutMemory()
    upright = classify_page(page, label_templates, engine, memory)
    turned = classify_page(cv2.rotate(page, cv2.ROTATE_180), label_templates, engine, memory)
    assert turned.quarter_turns == 2 and turned.template.id == upright.template.id
    assert memory.hits == 1 and memory.fallbacks == 0


def test_a_skip_that_hides_a_label_falls_back_to_the_full_pass_and_is_dropped(scan_set, label_templates):
    f = _files(scan_set)[0]
    engine, memory = default_engine(), LayoutMemory()
    page = _page(f)
    learnt = classify_page(page, label_templates, engine, None)
    every = [c for i, c in enumerate(learnt.layout.cells) if learnt.layout.cell_words.get(i)]  # labels too
    memory.learn(learnt.template.id, learnt.layout.cells, every, [],
                 {n: t.label_box for n, t in learnt.located.fields.items() if t is not None}, {})
    again = classify_page(page, label_templates, engine, memory)
    assert memory.fallbacks == 1 and memory.hits == 0
    assert again.template.id == learnt.template.id and again.score == learnt.score
    assert {k: v and v.box for k, v in again.located.fields.items()} == {k: v and v.box for k, v in learnt.located.fields.items()}
    assert memory.recall(learnt.layout.cells) is None  # not tried again for this layout
    memory.learn(learnt.template.id, learnt.layout.cells, every[:1], [], {}, {})
    assert memory.recall(learnt.layout.cells) is None  # nor learnt again


def _grid(rows: int, cols: int, x0: int = 100, y0: int = 200, w: int = 300, h: int = 110) -> list[Cell]:
    return [Cell(x0 + c * w, y0 + r * h, w - 4, h - 4) for r in range(rows) for c in range(cols)]


@pytest.mark.parametrize("shift, scale", [((0, 0), 1.0), ((37, -21), 1.0), ((12, 5), 0.67)])
def test_a_grid_is_recognised_shifted_or_rescaled(shift, scale):
    memory = LayoutMemory()
    cells = _grid(8, 3)
    memory.learn("t", cells, cells[4:6], [], {"a": cells[3]}, {})
    seen = [Cell(int((c.x + shift[0]) * scale), int((c.y + shift[1]) * scale), int(c.w * scale), int(c.h * scale)) for c in cells]
    recall = memory.recall(seen)
    assert recall is not None and recall.skip == (seen[4], seen[5])


def test_another_grid_is_not_a_known_layout():
    memory = LayoutMemory()
    cells = _grid(8, 3)
    memory.learn("t", cells, cells[4:6], [], {"a": cells[3]}, {})
    assert memory.recall(_grid(8, 4)) is None  # another column
    assert memory.recall(_grid(6, 3)) is None  # fewer rows
    assert memory.recall(_grid(8, 3, h=140)) is not None  # the same layout, taller (scaled) rows
    assert memory.recall(cells[:20] + [Cell(100, 1200, 890, 300)]) is None  # the bottom rows are one box


def test_a_memory_of_size_zero_learns_nothing():
    memory = LayoutMemory(size=0)
    cells = _grid(8, 3)
    memory.learn("t", cells, cells[4:6], [], {"a": cells[3]}, {})
    assert memory.recall(cells) is None


def test_a_shortened_pass_is_kept_only_when_it_found_all_the_learnt_page_had():
    memory = LayoutMemory()
    cells = _grid(8, 3)
    memory.learn("t", cells, cells[4:6], [], {"name": cells[0], "kana": cells[3], "zone": None}, {"children": (2, 3)})
    recall = memory.recall(cells)
    name, kana, zone = Target(box=cells[1], label_box=cells[0]), Target(box=cells[4], label_box=cells[3]), Target(box=cells[9])
    row = {"name": zone, "birth": zone, "relation": zone}

    def found(**changed) -> Located:
        return Located(fields={"name": name, "kana": kana, "zone": zone, **changed}, tables={"children": [row, row]}, score=0.9)

    assert memory.confirms(recall, "t", found())
    # A weak match at the learnt label's cell: that cell was read as in a full pass.
    assert memory.confirms(recall, "t", found(kana=Target(box=cells[4], label_box=cells[3], weak_label=True)))
    assert not memory.confirms(recall, "t", found(kana=Target(box=cells[7], label_box=cells[6])))  # elsewhere
    assert not memory.confirms(recall, "t", found(zone=Target(box=cells[9], weak_label=True)))  # weak, no learnt cell
    assert not memory.confirms(recall, "t", found(kana=None))  # a field missing
    assert not memory.confirms(recall, "other", found())  # another template
    short = found()
    short.tables["children"] = [row]
    assert not memory.confirms(recall, "t", short)  # a table row missing
    short.tables["children"] = [{"birth": zone, "relation": zone}] * 2
    assert not memory.confirms(recall, "t", short)  # a header missing
    assert not memory.confirms(recall, "t", None)


def test_a_grid_known_only_upside_down_never_whitens_the_upright_page(scan_set, label_templates, monkeypatch):
    import ocr.pipeline as pipeline

    page = _page(_files(scan_set)[0])
    engine = default_engine()
    upright = classify_page(page, label_templates, engine, None)
    memory = LayoutMemory()
    turned = pipeline._turned_cells(upright.layout.cells, page.shape)
    # A layout "learnt" upside down that the page is not: its 180° reading fits no template.
    memory.learn(upright.template.id, turned, turned[:5], [], {}, {})
    passes = []
    real = pipeline.layout_pass

    def spy(img, engine, grid=None, skip=(), blank=()):
        passes.append((img.shape == page.shape and (img == page).all(), bool(skip)))
        return real(img, engine, grid, skip, blank)

    monkeypatch.setattr(pipeline, "layout_pass", spy)
    found = classify_page(page, label_templates, engine, memory)
    assert passes[0] == (False, True)  # read at 180° first, shortened
    assert (True, True) not in passes  # the upright page is never read with the 180° grid's skips
    assert found.quarter_turns == 0 and found.template.id == upright.template.id
