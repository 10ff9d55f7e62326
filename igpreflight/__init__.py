"""igpreflight: make media safe to publish through the Instagram Graph API."""

__version__ = "0.1.0"
SPEC_VERSION = "2026-11"
