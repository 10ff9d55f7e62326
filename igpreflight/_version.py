"""The tool's version and the spec revision it implements: a leaf every layer may import."""

__version__ = "0.1.0"
SPEC_VERSION = "2026-11"
