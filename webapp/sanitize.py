"""Untrusted text made safe to store and log: no control characters, bounded length.

PostgreSQL rejects NUL in text, and control characters in logs mislead readers; both can
arrive in a form field, a header or a URL path.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control(value: str) -> bool:
    return bool(_CONTROL.search(value))


def plain_text(value: Any, limit: int = 200) -> str:
    return _CONTROL.sub("\ufffd", str(value))[:limit]
