"""What a presigned URL's query says about its lifetime (S3 SigV4, GCS, CloudFront).

The CDN code presigns, and URL005 warns when a URL may die before Instagram
fetches it; both read the signing schemes here.
"""

from __future__ import annotations

import time
import urllib.parse
from datetime import datetime, timezone

# A presigned SigV4 URL cannot live longer than 7 days (AWS signature limit).
SIGV4_MAX_EXPIRES = 7 * 24 * 3600


def presign_remaining(url: str, now: float | None = None) -> tuple[float | None, bool]:
    """Seconds a presigned URL stays valid (None when not presigned), and whether
    it is signed with temporary credentials (which end with their session)."""
    now = time.time() if now is None else now
    query = {k.lower(): v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)}
    temporary = "x-amz-security-token" in query
    for date_key, expires_key in (
        ("x-amz-date", "x-amz-expires"),
        ("x-goog-date", "x-goog-expires"),
    ):
        if date_key in query and expires_key in query:
            try:
                signed = datetime.strptime(query[date_key], "%Y%m%dT%H%M%SZ").replace(
                    tzinfo=timezone.utc
                )
                return signed.timestamp() + int(query[expires_key]) - now, temporary
            except ValueError:
                return 0.0, temporary
    if "expires" in query and ("signature" in query or "key-pair-id" in query):
        try:
            return int(query["expires"]) - now, temporary
        except ValueError:
            return 0.0, temporary
    return None, temporary
