"""Publish: upload to S3-compatible storage, check the URL, run the Graph container flow."""
