"""ketl: curate scraped, machine-translated news into a clean, provenance-rich Parquet dataset."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ketl")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
