"""Helpers shared by ingest and the stages: language identification and the
on-disk cache of tables built from shipped word lists (``language``, ``cache``)."""
