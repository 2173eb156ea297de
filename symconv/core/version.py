"""The package version, written once: symconv.__version__, symconv --version and the wheel metadata read it."""

__version__ = "0.2.0"
