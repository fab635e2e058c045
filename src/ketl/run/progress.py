"""A tiny progress hook between the flow and whoever shows progress (the CLI's rich bar).

The flow runs in the caller's process, so a module-level reporter is enough; it
stays a no-op when nobody listens (a deployment run, a test).
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def start(self, phase: str, total: int) -> None: ...
    def advance(self, phase: str, n: int = 1) -> None: ...


class _Silent:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, phase: str, n: int = 1) -> None:
        pass


_reporter: Reporter = _Silent()


def set_reporter(reporter: Reporter | None) -> None:
    global _reporter
    _reporter = reporter or _Silent()


def start(phase: str, total: int) -> None:
    _reporter.start(phase, total)


def advance(phase: str, n: int = 1) -> None:
    _reporter.advance(phase, n)
