"""taktgeber — quote-to-cash warehouse for professional-services firms."""

__version__ = "0.1.0"
