"""Where media live: local paths and s3:// objects, behind one small interface.

`s3uri` parses URIs, `s3` talks to the storage (boto3 only), `ranged` reads an
object as a seekable file through ranged GETs, `objects` lists inputs and
probes them, so the rest of the tool sees facts, never storage.
"""
