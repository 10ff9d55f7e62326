"""Where media live: local paths and s3:// objects, behind one small interface.

`s3uri` parses URIs, `s3` is the one S3 client of the tool (credentials, endpoint,
errors) and reads (listing, ranged GETs), `s3write` writes (one PUT or multipart,
checksum fallback), `upload` puts media under content-addressed keys for
Instagram to fetch (`UploadTarget`), `ranged` reads an object as a seekable file
through ranged GETs, `objects` lists inputs and probes them, so the rest of the
tool sees facts, never storage.
"""
