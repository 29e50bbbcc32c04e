"""The `meta` object benchmark functions attach to their JSON responses.

Functions answer `{"result": ..., "meta": {"function": ..., "instance": ..., "cold": ...}}`.
Parsing JSON for every response would cost more than the rest of the hot path, so the body is
only parsed when it is small, looks like a JSON object and contains the `"meta"` key.
"""

import json

MAX_META_BODY = 64 * 1024
"""Bodies longer than this are never parsed for meta."""

_MARKER = b'"meta"'


def extract_meta(body: bytes) -> bytes | None:
    """Compact JSON of the body's `meta` object, or None when it has none."""
    if _MARKER not in body or len(body) > MAX_META_BODY:
        return None
    if body.lstrip()[:1] != b"{":
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    meta = document.get("meta")
    if not isinstance(meta, dict):
        return None
    return json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode()
