"""Scoring a model: the test-split metrics and predictions of a run (``evaluate``), the
validation decision threshold (``threshold``), image-only alignment (``alignment``), a finished
run's model rebuilt (``run_model``) and applied to a new CSV (``predict``).
"""

__all__: list[str] = []
