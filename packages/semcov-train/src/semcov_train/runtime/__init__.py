"""How one training or evaluation process runs: its rank among ``torchrun`` processes
(``distributed``), the device's AMP and memory-format policy (``device_policy``), and atomic files
and checkpoint states (``checkpoint``). Imports nothing else of semcov_train but ``config``.
"""

__all__: list[str] = []
