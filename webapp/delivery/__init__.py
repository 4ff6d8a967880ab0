"""The candidate's exam: pages that work as plain form posts, and the JSON save API."""

from webapp.delivery.views import bp

__all__ = ["bp"]
