"""Ingest: raw files in, Documents and rejects out.

* ``scan`` - walk the raw folder, stat every entry (no reads);
* ``read`` - read, hash and decode a batch of files into Documents, or rejects;
* ``jsonl`` - one article per line of a JSONL file;
* ``decode`` / ``guess`` / ``plausible`` - bytes to text: declared encodings,
  then guessed ones, each candidate judged by how plausible its text is.
"""
