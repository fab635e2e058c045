"""``python -m ketl.cli``: the same as the ``ketl`` command."""

from .app import main

main()
