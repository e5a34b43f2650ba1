"""``python -m tests.formgen OUT --split heldout --count 60 --seed 5`` writes a set;
``--blank FAMILY_ID OUT.png`` writes a family's blank form; ``--describe FAMILY_ID`` prints it."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tests.formgen import family_layout, generate, render_blank


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.formgen", description="Randomised 児童手当 現況届 layouts with ground truth.")
    ap.add_argument("out", type=Path, nargs="?", help="output folder (or the PNG path with --blank)")
    ap.add_argument("--split", choices=("tuning", "heldout"), default="tuning")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--families", help="comma-separated family ids (default: all of the split)")
    ap.add_argument("--no-degrade", action="store_true", help="clean 300 dpi PNGs, no scan damage")
    ap.add_argument("--blank", type=int, metavar="FAMILY_ID", help="write this family's blank form to OUT")
    ap.add_argument("--describe", type=int, metavar="FAMILY_ID", help="print this family's choices and exit")
    args = ap.parse_args(argv)
    if args.describe is not None:
        print(family_layout(args.describe))
        return 0
    if args.out is None:
        ap.error("OUT is required")
    if args.blank is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        render_blank(args.blank).save(args.out, dpi=(300, 300))
        print(args.out)
        return 0
    families = [int(f) for f in args.families.split(",")] if args.families else None
    t0 = time.monotonic()
    truth = generate(args.out, args.count, split=args.split, seed=args.seed, families=families, degrade=not args.no_degrade)
    print(f"{truth} ({args.count} forms in {time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
