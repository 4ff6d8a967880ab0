"""Image assets: files in the assets/ folder next to an item's YAML file.

A file is accepted when its name is plain, it is a regular file of at most
:data:`MAX_IMAGE_BYTES`, and its first bytes show the image type its extension claims.
SVG is not accepted: it can carry scripts.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from item_bank.model import Image

ASSETS_DIR = "assets"
MAX_IMAGE_BYTES = 1024 * 1024
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}
_TYPE_NAMES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
               "image/webp": "WebP"}
EXTENSIONS = {media: ext for ext, media in MEDIA_TYPES.items() if ext != ".jpeg"}


def sniff(data: bytes) -> str | None:
    """The media type the file's signature shows, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def load_image(folder: Path, name: str, alt: str) -> tuple[Image | None, str | None]:
    """The checked image ``folder/assets/name``, or the reason it is a broken asset."""
    shown = f"{ASSETS_DIR}/{name}"
    if not NAME.fullmatch(name):
        return None, (f"broken asset: {name!r} must be a plain file name in the {ASSETS_DIR}/ "
                      "folder next to this file (letters, digits, '.', '_', '-')")
    media_type = MEDIA_TYPES.get(Path(name).suffix.lower())
    if media_type is None:
        return None, (f"broken asset: {shown} is not a .png, .jpg, .gif or .webp file")
    path = folder / ASSETS_DIR / name
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return None, f"broken asset: {shown} must be a regular file"
    if not path.exists():
        return None, f"broken asset: {shown} does not exist next to this file"
    size = path.stat().st_size
    if size == 0:
        return None, f"broken asset: {shown} is empty"
    if size > MAX_IMAGE_BYTES:
        return None, (f"broken asset: {shown} is {size / 1024 / 1024:.1f} MiB; "
                      f"the limit is {MAX_IMAGE_BYTES // 1024 // 1024} MiB")
    data = path.read_bytes()
    found = sniff(data)
    if found != media_type:
        what = f"it is {_TYPE_NAMES[found]}" if found else "its content is not an image"
        return None, f"broken asset: {shown} is not a {_TYPE_NAMES[media_type]} image ({what})"
    return Image(name, alt, media_type, hashlib.sha256(data).hexdigest(), size), None
