"""semcov_train: not built yet (see the package README)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
