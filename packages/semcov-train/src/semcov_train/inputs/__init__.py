"""What a run reads: the datasets registry and each dataset's loader (``sources``), fold k of the
70:10:20 rotation (``folds``), ``--dataset csv`` (``csv_data``), the synthetic benchmark
(``synthetic_data``), a run's train / val / test tables (``split_parts``) and its torch datasets
(``datasets``), the batch augmentation (``augment``), the shuffled-descriptor control
(``shuffle``) and the settings whose ``auto`` value depends on the dataset (``resolve``).
"""

__all__: list[str] = []
