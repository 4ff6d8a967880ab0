"""Frozen results that stay frozen: the one helper every scoring result uses."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np


def freeze_arrays(instance: Any) -> None:
    """Replace every ndarray field of a frozen dataclass by a read-only copy of it.

    Call from ``__post_init__``: the caller's arrays can then change without changing the
    result, and the result's arrays cannot be written to.
    """
    for field in fields(instance):
        value = getattr(instance, field.name)
        if isinstance(value, np.ndarray):
            value = value.copy()
            value.setflags(write=False)
            object.__setattr__(instance, field.name, value)
