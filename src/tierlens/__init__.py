"""tierlens: QA analytics for hybrid contact centers."""
__version__ = "0.1.0"
