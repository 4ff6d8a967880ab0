"""Sending stored image bytes (item and vignette assets) to a browser."""

from __future__ import annotations

from flask import Response

from webapp.models import ImageAsset


def image_response(image: ImageAsset) -> Response:
    """The image as stored; its media type was checked against its bytes on import.

    No caching beyond the page's own: signed-in responses are ``no-store`` (exam content
    stays off the workstation's disk), which security.py adds to every one of them.
    """
    resp = Response(image.data, mimetype=image.media_type)
    resp.headers["Content-Disposition"] = "inline"
    return resp
