"""One training run from a config to a finished run directory: the trainer (``trainer``), its
loaders, model and optimiser (``setup``), the step (``train_step``), the schedule, the epoch loop
and its state, checkpoints of the run (``run_checkpoints``), SIGTERM handling (``preemption``),
``history.csv`` (``history``) and the run directory's lock (``run_lock``).
"""

__all__: list[str] = []
