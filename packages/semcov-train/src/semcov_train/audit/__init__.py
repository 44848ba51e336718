"""The audit of a trained run: its inputs read back from the run directory (``run_inputs``),
the model card (``card``), the descriptor sensitivity passes (``descriptor_sensitivity``) and the
audit itself with its command line (``run_audit``).
"""

__all__: list[str] = []
