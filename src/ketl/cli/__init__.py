"""The ``ketl`` command line (typer + rich): ``app`` and its console-script entry point ``main``."""

from .app import app, main

__all__ = ["app", "main"]
