"""The version of semcov-metrics, in a module of its own so that the modules of the package
read it without importing the package's root."""

__all__ = ["__version__"]

__version__ = "0.3.0"
