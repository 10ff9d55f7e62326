"""Transcode: turn findings into the least work that makes a file pass, and do it."""
