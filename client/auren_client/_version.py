"""The client's version (sent in its User-Agent)."""

__version__ = "0.2.0"
