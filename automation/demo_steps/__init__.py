"""Demo steps, one module per capability: ``ORDER: int`` and ``run(ctx) -> StepSummary``."""
