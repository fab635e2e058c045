"""Stage "repair": encoding, Unicode, spacing, punctuation and glued words.

``stage`` runs the passes (``encoding``, ``unicode``, ``spacing``, ``punctuation``,
``script``, ``words``) to a fixed point (``settle``); ``scan`` and ``rules`` hold the
character classes and the data they share. ``ketl.repair`` re-exports the public API.
"""
