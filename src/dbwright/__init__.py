"""dbwright: a senior database engineer as software."""

__version__ = "0.1.0"
