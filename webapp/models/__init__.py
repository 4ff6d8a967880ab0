"""Typed SQLAlchemy models, one module per aggregate."""

from webapp.models.attempt import Attempt, AttemptEvent, AttemptState, Response
from webapp.models.audit import AuditLog
from webapp.models.bank import Form, FormItem, ImageAsset, ItemVersion, Scenario
from webapp.models.base import Base, utcnow
from webapp.models.programme import ContentDomain, ExamSession, Programme, TestCentre
from webapp.models.review import ItemReview
from webapp.models.user import LoginSession, Role, User

__all__ = [
    "Attempt", "AttemptEvent", "AttemptState", "AuditLog", "Base", "ContentDomain",
    "ExamSession", "Form", "FormItem", "ImageAsset", "ItemReview", "ItemVersion",
    "LoginSession", "Programme", "Response", "Role", "Scenario", "TestCentre", "User", "utcnow",
]
