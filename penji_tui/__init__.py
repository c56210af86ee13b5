"""penji-tui: console and daemon for the IT integrations of Penji communities."""

__version__ = "0.1.0"
