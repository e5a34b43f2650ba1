"""Scanner strips are whitened from the page's edge inwards; a form's own ruled lines near the edge stay."""
from __future__ import annotations

import numpy as np

from ocr.grid import binarise, find_cells, line_mask
from ocr.normalize import whiten_borders


def _page_with_frames() -> np.ndarray:
    """A straight A4 page whose tables' outer frame runs 180 px from the left and right edges,
    under three tables that together cover over 60% of the page's height."""
    img = np.full((3508, 2480), 255, np.uint8)
    for top, bottom in ((300, 1300), (1400, 2200), (2300, 3000)):
        img[top:bottom, 180:184] = 0
        img[top:bottom, 2296:2300] = 0
        for y in range(top, bottom + 1, 100):
            img[y:y + 4, 180:2300] = 0
        img[top:bottom, 700:704] = 0
    return img


def test_a_tables_outer_frame_near_the_edge_is_kept():
    img = _page_with_frames()
    out = whiten_borders(img)
    assert (out[400:1200, 180:184] == 0).all() and (out[400:1200, 2296:2300] == 0).all()
    # Every cell of the tables is still found: on the old rule the frame went, and the cells with it.
    assert len(find_cells(line_mask(binarise(out)))) == len(find_cells(line_mask(binarise(img))))


def test_a_scanner_strip_at_the_edge_is_whitened():
    img = _page_with_frames()
    img[:, :40] = 60  # the lid's shadow on the left
    img[:30, :] = 50  # and along the top
    out = whiten_borders(img)
    assert (out[:, :40] == 255).all() and (out[:30, :] == 255).all()
    assert (out[400:1200, 180:184] == 0).all()
