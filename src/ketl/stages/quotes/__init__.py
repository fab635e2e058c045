"""Stage "quotes": quoted spans and their speakers (``stage``)."""
