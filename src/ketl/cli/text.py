"""Text safe to print with rich: user data, paths and install hints are never markup."""

from __future__ import annotations

__all__ = ["printable"]

_CONTROL = dict.fromkeys([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)])


def printable(text: str) -> str:
    """``text`` safe to print with rich: control characters (terminal escape
    sequences in a file name) shown as ``\x1b``, and ``[`` escaped so it is not markup."""
    from rich.markup import escape

    shown = "".join(f"\\x{ord(c):02x}" if ord(c) in _CONTROL else c for c in str(text))
    return escape(shown)
