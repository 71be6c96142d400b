"""fusion-tui: a local proxy that runs a coding agent on a council of models."""

__version__ = "0.1.0"
