"""What a run reads: the datasets registry and its split into train / val / test
(``datasets``, ``split_parts``), ``--dataset csv`` (``csv_data``), the synthetic benchmark
(``synthetic_data``), the batch augmentation (``augment``), the shuffled-descriptor control
(``shuffle``) and the settings whose ``auto`` value depends on the dataset (``resolve``).
"""

__all__: list[str] = []
