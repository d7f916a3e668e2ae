"""cib-detector: coordination signals with evidence, from social-media dumps."""

from detector.records import Account, Post, Rejected

__version__ = "0.1.0"
__all__ = ["Account", "Post", "Rejected", "__version__"]
