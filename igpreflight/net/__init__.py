"""Network primitives below both preflight and publish.

`guard` decides which hosts Instagram could reach (URL006's test), `pinned`
connects only to the addresses the guard vetted, `fetch` does one GET the way
Instagram's fetcher does under a watchdog, and `presign` reads what a CDN's or
S3's signed URL says about its lifetime. Nothing here knows rules or findings.
"""
