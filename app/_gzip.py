"""Gzipped response bodies with their ETag, for the wall's GeoJSON routes."""

from __future__ import annotations

import gzip
import hashlib


def gzip_with_etag(body: bytes, level: int = 5) -> tuple[bytes, str]:
    """``body`` gzipped without a timestamp (the same bytes, so the same ETag, in every worker
    and on every call) and its ETag."""
    packed = gzip.compress(body, level, mtime=0)
    return packed, '"' + hashlib.sha1(packed, usedforsecurity=False).hexdigest()[:20] + '"'
