"""AI-OCR: read degraded 現況届 scans with the one shared template and compare with truth: a few
generated scans of the project's own layouts, and the shipped samples of layout families the
template was never tuned on."""
from __future__ import annotations

from pathlib import Path

from automation.demo import DemoContext, StepSummary

ORDER = 20
SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "child_allowance_status_report"
FORMS = SCENARIO / "forms"
HELD_OUT = SCENARIO / "samples" / "heldout"


def run(ctx: DemoContext) -> StepSummary:
    from ocr import load_templates
    from ocr.evaluate import check
    from ocr.generate import generate_set

    s = StepSummary(title="AI-OCR 児童手当 現況届: one shared template, the project's layouts and unseen ones")
    folder = Path(ctx.workdir) / "ocr-scans"
    truth = generate_set(folder, 3, seed=20)
    templates = load_templates(FORMS)
    for label, folder_, truth_ in (("project layouts a/b", folder, truth), ("held-out layouts (never tuned on)", HELD_OUT, HELD_OUT / "truth.jsonl")):
        r = check(templates, folder_, truth_)
        total = sum(f.total for f in r.fields.values())
        right = sum(f.correct for f in r.fields.values())
        silent = sum(f.silent_errors for f in r.fields.values())
        s.lines.append(f"{label}: {r.forms} forms from {r.pages} degraded scan pages, {r.seconds / max(1, r.pages):.1f} s/page")
        s.lines.append(f"  fields right vs truth: {right}/{total} ({right / max(1, total):.1%}); wrong and not flagged: {silent}")
        s.lines.append(f"  forms flagged for review: {r.forms_flagged}/{r.forms}; forms entirely right: {r.forms_all_correct}/{r.forms}")
        if r.unreadable:
            s.ok = False
            s.lines += [f"unreadable: {u}" for u in r.unreadable]
    ctx.shared["ocr_truth"] = str(truth)
    return s
