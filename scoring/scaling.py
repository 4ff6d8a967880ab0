"""Conversion tables from raw scores (or Rasch abilities) to a reporting scale.

A programme reports scaled scores on a fixed scale, e.g. 200-800 with a passing
score of 500, so that the same scaled score means the same on every form. The scale
is configuration (`ScaleSpec`); a `ConversionTable` maps each raw score ``0..K`` of
one form onto it. Three ways of building a table are provided:

`linear_conversion`
    A straight line through two anchor points, typically the raw cut score to the
    passing score and the maximum raw score to the top of the scale.
`rasch_conversion`
    A raw-to-theta table (Rasch ability estimates per raw score) followed by a
    straight line in theta through the theta cut and a second anchor.
`equated_conversion`
    An equating function ``e_Y(x)`` of a new form X onto the base form Y, composed
    with the base form's raw-to-scale conversion.

Every table is rounded in the same documented way (`round_half_up`: half up, to the
scale's increment, clipped to the scale) and then the *cut rule* is applied, so that

* the table is non-decreasing,
* the raw passing score (the smallest raw score at or above the cut) reports
  exactly the passing score,
* every raw score above it reports at least the passing score and every raw score
  below it at most ``passing - increment``,

whatever the equating and rounding did near the cut (Kolen & Brennan 2014, ch. 9:
the scale must keep the pass/fail decision of the base form). Tables are saved and
loaded as versioned JSON (`ConversionTable.to_json`, `ConversionTable.from_json`).

References
----------
Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking: Methods
and Practices* (3rd ed.). Springer. Ch. 2 (scale scores of equated forms)
and ch. 9 (score scales).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "FORMAT_VERSION",
    "ConversionTable",
    "ScaleSpec",
    "equated_conversion",
    "linear_conversion",
    "rasch_conversion",
    "round_half_up",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
JsonScalar = str | int | float | bool | None

FORMAT_VERSION: Final = 1
"""Version of the JSON layout written by `ConversionTable.to_json`."""

_FORMAT_NAME: Final = "scoring.ConversionTable"

# Floating-point slack, in units of the scale increment (rounding) or of raw/theta
# points (locating the cut). Anchors such as 0.1 * 3 are not exact in binary; without
# the slack 0.30000000000000004 would pass a cut of 0.3 and 2.4999999999999996
# increments would round down although the exact value is 2.5.
_TOL: Final = 1e-9

# Tolerance when checking that stored scaled scores lie on the increment grid.
_GRID_TOL: Final = 1e-6

_JSON_FIELDS: Final = (
    "format",
    "format_version",
    "version",
    "method",
    "scale",
    "cut_raw",
    "raw",
    "unrounded",
    "scaled",
    "csem",
    "metadata",
)
_SCALE_FIELDS: Final = ("minimum", "maximum", "passing", "increment")


def _real(value: object, name: str) -> float:
    """Return `value` as a finite float or raise a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _grid_steps(value: float, origin: float, increment: float) -> float:
    """Number of increments from `origin` to `value` (a float, near-integer on grid)."""
    return (value - origin) / increment


def round_half_up(
    values: npt.ArrayLike, increment: float = 1.0, origin: float = 0.0
) -> FloatArray:
    r"""
    Round to the nearest multiple of `increment` above `origin`, halves upwards.

    Parameters
    ----------
    values : array_like of float
        Values to round.
    increment : float, optional
        Spacing of the grid (positive). Default 1.
    origin : float, optional
        A point of the grid, e.g. the bottom of the scale. Default 0.

    Returns
    -------
    rounded : ndarray of float64
        Same shape as `values`.

    Raises
    ------
    ValueError
        If `increment` is not positive and finite, `origin` is not finite, or
        `values` holds NaN or an infinity.

    Notes
    -----
    .. math::

        r(s) = o + h \left\lfloor \frac{s - o}{h} + \tfrac12 + \epsilon \right\rfloor

    with origin :math:`o`, increment :math:`h` and :math:`\epsilon = 10^{-9}`, which
    absorbs binary floating-point error so that a value within :math:`10^{-9}`
    increments below a half is treated as the half. This is *round half up*, the
    rule of score reporting (Kolen & Brennan 2014, ch. 9): 0.5, 1.5 and 2.5 go to
    1, 2 and 3, whereas numpy's ``np.round`` (round half to even, "banker's
    rounding") gives 0, 2 and 2 and would report the same unrounded score
    differently depending on its integer part. For a negative value, "up" means
    towards :math:`+\infty`: -2.5 goes to -2.

    References
    ----------
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), ch. 9. Springer.

    Examples
    --------
    >>> round_half_up([0.5, 1.5, 2.5, 2.49, -2.5])
    array([ 1.,  2.,  3.,  2., -2.])
    >>> round_half_up([502.5, 507.4], increment=5.0, origin=200.0)
    array([505., 505.])
    """
    h = _real(increment, "increment")
    if h <= 0:
        raise ValueError(f"increment must be positive, got {increment!r}")
    o = _real(origin, "origin")
    s = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError("values must be finite (no NaN or infinity)")
    return o + np.floor((s - o) / h + 0.5 + _TOL) * h


@dataclass(frozen=True)
class ScaleSpec:
    """
    A reporting scale: its range, passing score and reporting increment.

    Parameters
    ----------
    minimum, maximum : float
        Lowest and highest reportable scaled score, ``minimum < maximum``.
    passing : float
        The passing score, ``minimum < passing <= maximum``. It must be above the
        minimum so that a failing score (at most ``passing - increment``) exists.
    increment : float, optional
        Reported scores are ``minimum + k * increment`` for integers ``k``.
        ``maximum`` and ``passing`` must lie on this grid. Default 1.

    Raises
    ------
    ValueError
        Naming the offending field: not a finite number, ``minimum >= maximum``,
        ``increment <= 0``, ``passing`` outside ``(minimum, maximum]``, or
        ``maximum`` / ``passing`` off the increment grid.

    Examples
    --------
    >>> scale = ScaleSpec(minimum=200, maximum=800, passing=500)
    >>> scale.increment, scale.n_steps, scale.passing_step
    (1.0, 600, 300)
    >>> scale.round([199.0, 499.5, 650.2, 812.0])
    array([200., 500., 650., 800.])
    """

    minimum: float
    maximum: float
    passing: float
    increment: float = 1.0

    def __post_init__(self) -> None:
        for name in _SCALE_FIELDS:
            object.__setattr__(self, name, _real(getattr(self, name), f"ScaleSpec.{name}"))
        if not self.minimum < self.maximum:
            raise ValueError(
                f"ScaleSpec.minimum ({self.minimum:g}) must be less than "
                f"ScaleSpec.maximum ({self.maximum:g})"
            )
        if self.increment <= 0:
            raise ValueError(f"ScaleSpec.increment must be positive, got {self.increment:g}")
        if not self.minimum < self.passing <= self.maximum:
            raise ValueError(
                f"ScaleSpec.passing ({self.passing:g}) must lie in the scale "
                f"({self.minimum:g}, {self.maximum:g}]: above the minimum, so that a "
                "failing score exists, and at most the maximum"
            )
        for name in ("maximum", "passing"):
            steps = _grid_steps(getattr(self, name), self.minimum, self.increment)
            if abs(steps - round(steps)) > _GRID_TOL:
                raise ValueError(
                    f"ScaleSpec.{name} ({getattr(self, name):g}) must lie on the reporting "
                    f"grid minimum + k * increment ({self.minimum:g} + k * "
                    f"{self.increment:g})"
                )

    @property
    def n_steps(self) -> int:
        """Number of increments from `minimum` to `maximum`."""
        return round(_grid_steps(self.maximum, self.minimum, self.increment))

    @property
    def passing_step(self) -> int:
        """Number of increments from `minimum` to `passing`."""
        return round(_grid_steps(self.passing, self.minimum, self.increment))

    def _steps(self, values: FloatArray) -> IntArray:
        """Clip to the scale and round half up; result in grid steps 0..n_steps."""
        clipped = np.clip(values, self.minimum, self.maximum)
        steps = np.floor(_grid_steps(clipped, self.minimum, self.increment) + 0.5 + _TOL)
        return np.clip(steps, 0, self.n_steps).astype(np.int64)

    def _values(self, steps: IntArray) -> FloatArray:
        """Scaled scores at grid `steps`; passing and maximum are reproduced exactly."""
        values = self.minimum + steps * self.increment
        values[steps == self.passing_step] = self.passing
        values[steps == self.n_steps] = self.maximum
        return values

    def round(self, values: npt.ArrayLike) -> FloatArray:
        """
        Clip `values` to ``[minimum, maximum]`` and round them half up to the grid.

        Parameters
        ----------
        values : array_like of float
            Unrounded scaled scores (finite).

        Returns
        -------
        rounded : ndarray of float64
            ``round_half_up(clip(values, minimum, maximum), increment, minimum)``;
            the cut rule of `ConversionTable` is *not* applied here.

        Raises
        ------
        ValueError
            If `values` holds NaN or an infinity.
        """
        s = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(s)):
            raise ValueError("values must be finite (no NaN or infinity)")
        return self._values(self._steps(s.reshape(-1))).reshape(s.shape)

    def to_dict(self) -> dict[str, float]:
        """The four fields, for JSON."""
        return {name: getattr(self, name) for name in _SCALE_FIELDS}


def _passing_raw(cut_raw: float) -> int:
    """Smallest integer raw score at or above the cut (with floating-point slack)."""
    return math.ceil(cut_raw - _TOL)


def _freeze_metadata(metadata: Mapping[str, Any] | None) -> Mapping[str, JsonScalar]:
    if metadata is None:
        return MappingProxyType({})
    if not isinstance(metadata, Mapping):
        raise ValueError(f"metadata must be a mapping of str to JSON scalars, got {metadata!r}")
    frozen: dict[str, JsonScalar] = {}
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise ValueError(f"metadata keys must be str, got {key!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metadata[{key!r}] must be finite, got {value!r}")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(
                f"metadata[{key!r}] must be a str, int, float, bool or None (a JSON "
                f"scalar), got {type(value).__name__}"
            )
        frozen[key] = value
    return MappingProxyType(frozen)


def _vector(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return array


@dataclass(frozen=True, eq=False)
class ConversionTable:
    r"""
    A raw-to-scale conversion table of one form, raw scores ``0..K``.

    Build one with `linear_conversion`, `rasch_conversion` or `equated_conversion`;
    the constructor only validates.

    Attributes
    ----------
    raw : ndarray of int64, shape (K + 1,)
        The raw scores ``0, 1, ..., K``.
    unrounded : ndarray of float64, shape (K + 1,)
        Scaled score of each raw score before clipping and rounding; non-decreasing.
    scaled : ndarray of float64, shape (K + 1,)
        Reported scaled score of each raw score: on the scale's grid, within
        ``[minimum, maximum]``, non-decreasing, and obeying the cut rule (Notes).
    cut_raw : float
        The raw cut score of this form, in ``[0, K]``; may be fractional (e.g. a
        standard-setting result such as 107.4, or, for Rasch and equated tables,
        the raw score at which the interpolated conversion reaches the cut).
    scale : ScaleSpec
        The reporting scale.
    version : str
        Identifier of this table (e.g. ``"form-B-2026-03"``).
    method : str
        How the table was made, in words.
    csem : ndarray of float64, shape (K + 1,), or None
        Optional conditional standard error of measurement at each raw score,
        non-negative, in the units the caller chose (usually scale units, e.g. the
        raw CSEM times the local slope of the conversion, Kolen & Brennan 2014,
        ch. 9).
    metadata : mapping of str to str, int, float, bool or None
        Free-form description (form code, administration window, ...); read-only.

    Raises
    ------
    ValueError
        Naming the field, if an array has the wrong length or holds NaN, `raw` is
        not ``0..K``, `cut_raw` is outside ``[0, K]``, `unrounded` or `scaled`
        decreases, a scaled score is off the grid or outside the scale, the cut rule
        is violated, or `csem` is negative.

    Notes
    -----
    The *raw passing score* is :math:`x_c = \lceil c \rceil`, the smallest integer
    raw score at or above the cut :math:`c` (``passing_raw``). The cut rule is

    .. math::

        sc(x) = P \text{ at } x = x_c, \qquad sc(x) \ge P \text{ for } x > x_c,
        \qquad sc(x) \le P - h \text{ for } x < x_c,

    with passing score :math:`P` and increment :math:`h`: everyone at or above the
    cut passes with a reported score of at least :math:`P`, the lowest passing raw
    score reports exactly :math:`P`, and nobody below the cut can be reported as
    :math:`P` because rounding carried them up (Kolen & Brennan 2014, ch. 9).

    Instances compare equal when every field is equal (arrays element-wise and
    exactly); they are not hashable.

    Examples
    --------
    >>> table = linear_conversion(40, cut=30, scale=ScaleSpec(200, 800, 500))
    >>> table.n_items, table.passing_raw
    (40, 30)
    >>> table.scaled[[0, 20, 29, 30, 35, 40]]
    array([200., 200., 470., 500., 650., 800.])
    >>> table.lookup([30, 40, 29])
    array([500., 800., 470.])
    """

    raw: IntArray
    unrounded: FloatArray
    scaled: FloatArray
    cut_raw: float
    scale: ScaleSpec
    version: str
    method: str
    csem: FloatArray | None = None
    metadata: Mapping[str, JsonScalar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.scale, ScaleSpec):
            raise ValueError(f"scale must be a ScaleSpec, got {type(self.scale).__name__}")
        for name in ("version", "method"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a str, got {getattr(self, name)!r}")
        raw = np.array(self.raw)
        if raw.ndim != 1 or raw.shape[0] < 2:
            raise ValueError(
                f"raw must list the raw scores 0..K with K >= 1, got shape {raw.shape}"
            )
        k = raw.shape[0] - 1
        if raw.dtype.kind not in "iu" or not np.array_equal(raw, np.arange(k + 1)):
            raise ValueError(f"raw must be the integers 0, 1, ..., {k} in order")
        raw = raw.astype(np.int64)
        unrounded = _vector(self.unrounded, "unrounded")
        scaled = _vector(self.scaled, "scaled")
        for name, array in (("unrounded", unrounded), ("scaled", scaled)):
            if array.shape != raw.shape:
                raise ValueError(
                    f"{name} must have one value per raw score ({k + 1}), "
                    f"got {array.shape[0]}"
                )
            if np.any(np.diff(array) < 0):
                first = int(np.argmax(np.diff(array) < 0))
                raise ValueError(
                    f"{name} must be non-decreasing in the raw score, but {name}"
                    f"[{first + 1}] = {array[first + 1]!r} < {name}[{first}] = "
                    f"{array[first]!r}"
                )
        cut = _real(self.cut_raw, "cut_raw")
        if not 0 <= cut <= k:
            raise ValueError(f"cut_raw must lie in [0, {k}] (0..K), got {cut:g}")
        scale = self.scale
        if np.any(scaled < scale.minimum) or np.any(scaled > scale.maximum):
            raise ValueError(
                f"scaled must lie within the scale [{scale.minimum:g}, {scale.maximum:g}]"
            )
        steps = _grid_steps(scaled, scale.minimum, scale.increment)
        if np.any(np.abs(steps - np.rint(steps)) > _GRID_TOL):
            raise ValueError(
                f"scaled must lie on the reporting grid {scale.minimum:g} + k * "
                f"{scale.increment:g}"
            )
        x_c = _passing_raw(cut)
        below = np.rint(steps[:x_c]).astype(np.int64)
        if scaled[x_c] != scale.passing or np.any(below > scale.passing_step - 1):
            raise ValueError(
                f"scaled violates the cut rule: the raw passing score {x_c} must report "
                f"exactly the passing score {scale.passing:g} and every raw score below it "
                f"at most {scale.passing - scale.increment:g}"
            )
        csem = None
        if self.csem is not None:
            csem = _vector(self.csem, "csem")
            if csem.shape != raw.shape:
                raise ValueError(
                    f"csem must have one value per raw score ({k + 1}), got {csem.shape[0]}"
                )
            if np.any(csem < 0):
                raise ValueError("csem must be non-negative")
        for name, array in (("raw", raw), ("unrounded", unrounded), ("scaled", scaled),
                            ("csem", csem)):
            if array is not None:
                array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "cut_raw", cut)
        object.__setattr__(self, "metadata", _freeze_metadata(self.metadata))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConversionTable):
            return NotImplemented
        if (self.csem is None) != (other.csem is None):
            return False
        return (
            np.array_equal(self.raw, other.raw)
            and np.array_equal(self.unrounded, other.unrounded)
            and np.array_equal(self.scaled, other.scaled)
            and (self.csem is None or np.array_equal(self.csem, other.csem))
            and self.cut_raw == other.cut_raw
            and self.scale == other.scale
            and self.version == other.version
            and self.method == other.method
            and dict(self.metadata) == dict(other.metadata)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_items(self) -> int:
        """Maximum raw score K."""
        return int(self.raw.shape[0] - 1)

    @property
    def passing_raw(self) -> int:
        """Smallest raw score at or above `cut_raw`; it reports exactly the passing score."""
        return _passing_raw(self.cut_raw)

    def _index(self, raw: npt.ArrayLike) -> npt.NDArray[np.intp]:
        """Validate raw scores (any shape) and return them as indices into the table."""
        x = np.asarray(raw)
        if x.dtype.kind in "iu":
            index = x
        elif x.dtype.kind == "f":
            # Vectorised checks; no Python loop over candidates.
            if not np.all(np.isfinite(x)):
                raise ValueError("raw must be finite (no NaN or infinity)")
            if np.any(x != np.floor(x)):
                raise ValueError("raw must hold whole raw scores, got a fractional value")
            index = x.astype(np.int64)
        else:
            raise ValueError(f"raw must hold integer raw scores, got dtype {x.dtype}")
        if index.size and (index.min() < 0 or index.max() > self.n_items):
            bad = (index < 0) | (index > self.n_items)
            position = tuple(int(i) for i in np.argwhere(bad)[0])
            where = "raw[" + ", ".join(map(str, position)) + "]" if position else "raw"
            raise ValueError(
                f"raw must lie in 0..{self.n_items}, but {where} is "
                f"{np.asarray(x)[position].item()!r} ({int(bad.sum())} out of range)"
            )
        return index.astype(np.intp, copy=False)

    def lookup(self, raw: npt.ArrayLike, *, rounded: bool = True) -> FloatArray:
        """
        Scaled scores of many raw scores at once (vectorised).

        Parameters
        ----------
        raw : array_like of int, any shape
            Raw scores in ``0..K`` (integer dtype, or floats with whole values).
        rounded : bool, optional
            Return the reported (rounded, cut-rule) scores (default) or the
            unrounded ones.

        Returns
        -------
        scaled : ndarray of float64
            Same shape as `raw`.

        Raises
        ------
        ValueError
            If a raw score is outside ``0..K``, fractional, NaN, or not numeric.

        Examples
        --------
        >>> table = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10))
        >>> table.lookup([[0, 4], [2, 3]])
        array([[ 20., 100.],
               [ 60.,  80.]])
        """
        values = self.scaled if rounded else self.unrounded
        return values[self._index(raw)]

    def passed(self, raw: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """
        Pass/fail of many raw scores: ``raw >= passing_raw``.

        Equivalent to ``lookup(raw) >= scale.passing`` by the cut rule.

        Examples
        --------
        >>> table = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10))
        >>> table.passed([0, 1, 2, 4])
        array([False, False,  True,  True])
        """
        return self._index(raw) >= self.passing_raw

    def to_json(self, indent: int | None = 2) -> str:
        """
        Serialise to versioned JSON (lossless; read back with `from_json`).

        Returns
        -------
        text : str
            A JSON object with ``"format": "scoring.ConversionTable"``,
            ``"format_version"`` (`FORMAT_VERSION`), ``version``, ``method``,
            ``scale`` (an object with minimum, maximum, passing, increment),
            ``cut_raw``, the arrays ``raw``, ``unrounded``, ``scaled``, ``csem``
            (null when absent) and ``metadata``. Floats are written with Python's
            shortest round-tripping representation, so nothing is lost.

        Examples
        --------
        >>> table = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10))
        >>> ConversionTable.from_json(table.to_json()) == table
        True
        """
        document = {
            "format": _FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "method": self.method,
            "scale": self.scale.to_dict(),
            "cut_raw": self.cut_raw,
            "raw": self.raw.tolist(),
            "unrounded": self.unrounded.tolist(),
            "scaled": self.scaled.tolist(),
            "csem": None if self.csem is None else self.csem.tolist(),
            "metadata": dict(self.metadata),
        }
        return json.dumps(document, indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ConversionTable:
        """
        Load a table written by `to_json`.

        Parameters
        ----------
        text : str or bytes
            The JSON document.

        Returns
        -------
        table : ConversionTable
            Validated as by the constructor.

        Raises
        ------
        ValueError
            If the text is not JSON; if a field is missing, unknown or of the wrong
            type (the message names it); if ``format_version`` is not one this
            version of the library reads; or if the table is invalid.
        """
        def reject_constant(name: str) -> None:
            raise ValueError(f"conversion table JSON contains {name}, which is not allowed")

        try:
            document = json.loads(text, parse_constant=reject_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(f"conversion table JSON is malformed: {exc}") from None
        except (TypeError, UnicodeDecodeError) as exc:
            raise ValueError(f"conversion table JSON could not be read: {exc}") from None
        if not isinstance(document, dict):
            raise ValueError(
                f"conversion table JSON must be an object, got {type(document).__name__}"
            )
        for name in ("format", "format_version"):
            if name not in document:
                raise ValueError(f"conversion table JSON is missing field {name!r}")
        if document["format"] != _FORMAT_NAME:
            raise ValueError(
                f"field 'format' must be {_FORMAT_NAME!r}, got {document['format']!r}"
            )
        format_version = document["format_version"]
        if isinstance(format_version, bool) or format_version != FORMAT_VERSION:
            raise ValueError(
                f"field 'format_version' is {format_version!r}; this version of scoring "
                f"reads format_version {FORMAT_VERSION} only"
            )
        missing = [name for name in _JSON_FIELDS if name not in document]
        if missing:
            raise ValueError(f"conversion table JSON is missing field {missing[0]!r}")
        unknown = sorted(set(document) - set(_JSON_FIELDS))
        if unknown:
            raise ValueError(f"conversion table JSON has unknown field {unknown[0]!r}")
        for name in ("version", "method"):
            if not isinstance(document[name], str):
                raise ValueError(f"field {name!r} must be a string, got {document[name]!r}")
        scale_doc = document["scale"]
        if not isinstance(scale_doc, dict) or set(scale_doc) != set(_SCALE_FIELDS):
            raise ValueError(
                "field 'scale' must be an object with exactly the keys "
                + ", ".join(_SCALE_FIELDS)
            )
        try:
            scale = ScaleSpec(**{name: _json_number(scale_doc[name], f"scale.{name}")
                                 for name in _SCALE_FIELDS})
        except ValueError as exc:
            raise ValueError(f"field 'scale' is invalid: {exc}") from None
        arrays = {
            name: _json_numbers(document[name], name, integer=(name == "raw"))
            for name in ("raw", "unrounded", "scaled")
        }
        csem = None if document["csem"] is None else _json_numbers(document["csem"], "csem")
        if not isinstance(document["metadata"], dict):
            raise ValueError("field 'metadata' must be an object")
        try:
            return cls(
                raw=np.asarray(arrays["raw"], dtype=np.int64),
                unrounded=np.asarray(arrays["unrounded"], dtype=np.float64),
                scaled=np.asarray(arrays["scaled"], dtype=np.float64),
                cut_raw=_json_number(document["cut_raw"], "cut_raw"),
                scale=scale,
                version=document["version"],
                method=document["method"],
                csem=None if csem is None else np.asarray(csem, dtype=np.float64),
                metadata=document["metadata"],
            )
        except ValueError as exc:
            raise ValueError(f"conversion table JSON is invalid: {exc}") from None

    def save(self, path: str | Path) -> None:
        """Write `to_json` to `path` (UTF-8)."""
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ConversionTable:
        """Read a table saved with `save` (see `from_json` for the errors)."""
        return cls.from_json(Path(path).read_bytes())


def _json_number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"field {name!r} must be a number, got {value!r}")
    return float(value)


def _json_numbers(value: object, name: str, integer: bool = False) -> list[Any]:
    kinds = (int,) if integer else (int, float)
    if not isinstance(value, list) or not all(
        isinstance(v, kinds) and not isinstance(v, bool) for v in value
    ):
        what = "integers" if integer else "numbers"
        raise ValueError(f"field {name!r} must be a list of {what}")
    return value


def _apply_cut_rule(unrounded: FloatArray, cut_raw: float, scale: ScaleSpec) -> FloatArray:
    """Clip, round half up and enforce the cut rule (see `ConversionTable`)."""
    steps = scale._steps(unrounded)
    x_c = _passing_raw(cut_raw)
    p = scale.passing_step
    steps[:x_c] = np.minimum(steps[:x_c], p - 1)
    steps[x_c] = p
    steps[x_c + 1 :] = np.maximum(steps[x_c + 1 :], p)
    return scale._values(steps)


def _raw_cut(values: FloatArray, target: float) -> float | None:
    """Raw score at which piecewise-linear `values` (at 0..K) first reach `target`.

    None if they never do. The result ``x*`` satisfies ``ceil(x*) = min{x : values[x]
    >= target}`` (to within 1e-9), so the raw passing score follows from it.
    """
    reaches = values >= target - _TOL
    if not reaches.any():
        return None
    x_c = int(np.argmax(reaches))
    if x_c == 0:
        return 0.0
    low, high = float(values[x_c - 1]), float(values[x_c])
    x_star = min(max(x_c - 1 + (target - low) / (high - low), x_c - 1.0), float(x_c))
    # Within 1e-9 of the integer below, the ceiling would miss x_c: use x_c itself.
    return x_star if _passing_raw(x_star) == x_c else float(x_c)


def _check_n_items(n_items: object, name: str = "n_items") -> int:
    if isinstance(n_items, bool) or not isinstance(n_items, numbers.Integral) or n_items < 1:
        raise ValueError(f"{name} (the maximum raw score K) must be an integer >= 1, "
                         f"got {n_items!r}")
    return int(n_items)


def _two_points(
    x0: float, y0: float, x1: float, y1: float, what: str
) -> float:
    """Slope of the line through two anchors; must be positive (a monotone scale)."""
    if x1 == x0:
        raise ValueError(f"the second anchor's {what} must differ from the cut ({x0:g})")
    slope = (y1 - y0) / (x1 - x0)
    if not math.isfinite(slope):
        raise ValueError(
            f"the second anchor's {what} ({x1!r}) is too close to the cut ({x0!r}): the "
            "slope overflows"
        )
    if not slope > 0:
        raise ValueError(
            f"the anchors ({x0:g}, {y0:g}) and ({x1:g}, {y1:g}) give slope {slope:g}; "
            "the conversion must increase with the score"
        )
    return slope


def _anchor(anchor: tuple[float, float] | None, name: str) -> tuple[float, float] | None:
    if anchor is None:
        return None
    try:
        first, second = anchor
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (score, scaled score), got {anchor!r}") from None
    return _real(first, f"{name}[0]"), _real(second, f"{name}[1]")


def linear_conversion(
    n_items: int,
    cut: float,
    scale: ScaleSpec,
    *,
    anchor: tuple[float, float] | None = None,
    csem: npt.ArrayLike | None = None,
    version: str = "1",
    metadata: Mapping[str, JsonScalar] | None = None,
) -> ConversionTable:
    r"""
    Linear raw-to-scale conversion anchored at the cut and a second point.

    Parameters
    ----------
    n_items : int
        Maximum raw score K (number of scored items), at least 1.
    cut : float
        Raw cut score in ``[0, K]``; mapped onto ``scale.passing``. May be fractional.
    scale : ScaleSpec
        The reporting scale.
    anchor : (float, float), optional
        Second point ``(raw, scaled)``. Default ``(K, scale.maximum)``: the maximum
        raw score gets the top of the scale; when that gives a flat line (``cut ==
        K`` or ``passing == maximum``), ``(0, scale.minimum)``.
    csem : array_like, shape (K + 1,), optional
        CSEM per raw score to store in the table (see `ConversionTable`).
    version : str, optional
        Table identifier. Default ``"1"``.
    metadata : mapping, optional
        Free-form JSON scalars stored with the table.

    Returns
    -------
    table : ConversionTable

    Raises
    ------
    ValueError
        If `n_items` is not an integer >= 1, `cut` is outside ``[0, K]``, the anchor
        coincides with the cut or gives a non-increasing line, or `csem` is invalid.

    Notes
    -----
    The unrounded conversion (Kolen & Brennan 2014, ch. 9, a linear
    transformation :math:`sc(x) = A x + B`) is written through the cut :math:`c`
    and passing score :math:`P` so that :math:`sc(c) = P` holds exactly:

    .. math::

        sc(x) = P + A (x - c), \qquad A = \frac{S_1 - P}{x_1 - c}

    with anchor :math:`(x_1, S_1)`. The reported score clips to the scale, rounds
    half up (`round_half_up`) and applies the cut rule of `ConversionTable`.

    References
    ----------
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), ch. 9. Springer.

    Examples
    --------
    A 10-item test with a fractional cut of 6.5 (a candidate needs 7), on a 200-800
    scale passing at 500. The raw passing score 7 would round to 543 but reports
    exactly 500 (cut rule); scores 0-3 clip to the bottom of the scale:

    >>> table = linear_conversion(10, cut=6.5, scale=ScaleSpec(200, 800, 500))
    >>> table.unrounded.round(1)
    array([-57.1,  28.6, 114.3, 200. , 285.7, 371.4, 457.1, 542.9, 628.6,
           714.3, 800. ])
    >>> table.scaled
    array([200., 200., 200., 200., 286., 371., 457., 500., 629., 714., 800.])
    """
    k = _check_n_items(n_items)
    c = _real(cut, "cut")
    if not 0 <= c <= k:
        raise ValueError(f"cut must lie in [0, {k}] (0..K), got {c:g}")
    point = _anchor(anchor, "anchor")
    if point is None:
        if c < k and scale.passing < scale.maximum:
            point = (float(k), scale.maximum)
        elif c > 0:
            point = (0.0, scale.minimum)
        else:
            raise ValueError(
                "anchor is required: with cut 0 and passing equal to the scale maximum "
                "the default anchors give a flat line"
            )
    slope = _two_points(c, scale.passing, point[0], point[1], "raw score")
    unrounded = scale.passing + slope * (np.arange(k + 1, dtype=np.float64) - c)
    return ConversionTable(
        raw=np.arange(k + 1, dtype=np.int64),
        unrounded=unrounded,
        scaled=_apply_cut_rule(unrounded, c, scale),
        cut_raw=c,
        scale=scale,
        version=version,
        method=(
            f"linear: raw {c:g} -> {scale.passing:g}, raw {point[0]:g} -> {point[1]:g} "
            f"(slope {slope:.6g}); clipped to [{scale.minimum:g}, {scale.maximum:g}], "
            f"rounded half up to {scale.increment:g}, cut rule applied"
        ),
        csem=csem,
        metadata=metadata if metadata is not None else {},
    )


def rasch_conversion(
    theta: npt.ArrayLike,
    theta_cut: float,
    scale: ScaleSpec,
    *,
    anchor: tuple[float, float] | None = None,
    csem: npt.ArrayLike | None = None,
    version: str = "1",
    metadata: Mapping[str, JsonScalar] | None = None,
) -> ConversionTable:
    r"""
    Conversion through Rasch abilities: raw -> theta (a table) -> linear scale.

    Parameters
    ----------
    theta : array_like, shape (K + 1,)
        Ability estimate for each raw score ``0..K`` of this form (Rasch: the raw
        score is sufficient, so one theta per raw score), finite and
        non-decreasing. The extremes ``0`` and ``K`` have no finite maximum
        likelihood estimate; use WLE or EAP values, or the programme's convention.
    theta_cut : float
        The cut on the theta scale (from standard setting on the banked scale);
        mapped onto ``scale.passing``. Must not exceed ``theta[K]``.
    scale : ScaleSpec
        The reporting scale.
    anchor : (float, float), optional
        Second point ``(theta, scaled)``. Default ``(theta[K], scale.maximum)``;
        when that gives a flat line (``theta_cut >= theta[K]`` or ``passing ==
        maximum``), ``(theta[0], scale.minimum)``.
    csem : array_like, shape (K + 1,), optional
        CSEM per raw score (e.g. the theta standard error times the slope).
    version : str, optional
        Table identifier. Default ``"1"``.
    metadata : mapping, optional
        Free-form JSON scalars stored with the table.

    Returns
    -------
    table : ConversionTable
        ``cut_raw`` is where the raw-to-theta table, interpolated linearly, reaches
        `theta_cut`; its ``passing_raw`` is the smallest raw score ``x`` with
        ``theta[x] >= theta_cut`` (to within 1e-9).

    Raises
    ------
    ValueError
        If `theta` is not a finite non-decreasing vector of length >= 2, no raw
        score reaches `theta_cut`, or the anchor gives a non-increasing line.

    Notes
    -----
    .. math::

        sc(x) = P + A\,(\hat\theta_x - \theta_c), \qquad
        A = \frac{S_1 - P}{\theta_1 - \theta_c}

    (a linear transformation of the ability scale, Kolen & Brennan 2014, sec.
    9.6; Lord 1980, ch. 6 on the indeterminacy of the theta metric). Because a
    form built from banked difficulties has its raw-to-theta table before anyone
    sits it, this is also pre-equating. The raw passing score is
    :math:`x_c = \min\{x : \hat\theta_x \ge \theta_c\}`; the cut rule of
    `ConversionTable` then reports :math:`x_c` as exactly :math:`P`. The stored
    ``cut_raw`` is the fractional raw score :math:`x^* \in (x_c - 1, x_c]` at which
    the raw-to-theta table, interpolated linearly, reaches :math:`\theta_c`.

    References
    ----------
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), ch. 9. Springer.
    Lord, F. M. (1980). *Applications of Item Response Theory to Practical Testing
    Problems*. Erlbaum.

    Examples
    --------
    >>> theta = [-2.0, -1.0, -0.2, 0.4, 1.1, 2.2]
    >>> table = rasch_conversion(theta, theta_cut=0.0, scale=ScaleSpec(200, 800, 500))
    >>> round(table.cut_raw, 4), table.passing_raw
    (2.3333, 3)
    >>> table.scaled.tolist()
    [227.0, 364.0, 473.0, 500.0, 650.0, 800.0]
    """
    t = _vector(theta, "theta")
    if t.shape[0] < 2:
        raise ValueError("theta must give one ability per raw score 0..K with K >= 1")
    if np.any(np.diff(t) < 0):
        first = int(np.argmax(np.diff(t) < 0))
        raise ValueError(
            f"theta must be non-decreasing in the raw score, but theta[{first + 1}] = "
            f"{t[first + 1]:g} < theta[{first}] = {t[first]:g}"
        )
    c = _real(theta_cut, "theta_cut")
    x_star = _raw_cut(t, c)
    if x_star is None:
        raise ValueError(
            f"theta_cut ({c:g}) is above the ability of the maximum raw score "
            f"({t[-1]:g}): nobody could pass this form"
        )
    point = _anchor(anchor, "anchor")
    if point is None:
        if c < t[-1] and scale.passing < scale.maximum:
            point = (float(t[-1]), scale.maximum)
        elif c > t[0]:
            point = (float(t[0]), scale.minimum)
        else:
            raise ValueError(
                "anchor is required: the default anchors (theta[K], maximum) and "
                "(theta[0], minimum) both give a flat line for this cut and scale"
            )
    slope = _two_points(c, scale.passing, point[0], point[1], "theta")
    unrounded = scale.passing + slope * (t - c)
    return ConversionTable(
        raw=np.arange(t.shape[0], dtype=np.int64),
        unrounded=unrounded,
        scaled=_apply_cut_rule(unrounded, x_star, scale),
        cut_raw=x_star,
        scale=scale,
        version=version,
        method=(
            f"rasch: raw -> theta table, theta {c:g} -> {scale.passing:g}, theta "
            f"{point[0]:g} -> {point[1]:g} (slope {slope:.6g}); raw cut {x_star:.6g}, "
            f"raw passing score {_passing_raw(x_star)}; "
            f"clipped, rounded half up to {scale.increment:g}, cut rule applied"
        ),
        csem=csem,
        metadata=metadata if metadata is not None else {},
    )


def _interpolate(y: FloatArray, values: FloatArray) -> FloatArray:
    """Piecewise-linear interpolation of `values` (at 0..K) at `y`, extrapolating."""
    k = values.shape[0] - 1
    inside = np.interp(y, np.arange(k + 1, dtype=np.float64), values)
    low_slope = values[1] - values[0]
    high_slope = values[k] - values[k - 1]
    result = np.where(y < 0, values[0] + low_slope * y, inside)
    return np.where(y > k, values[k] + high_slope * (y - k), result)


def equated_conversion(
    equated: npt.ArrayLike | Callable[[FloatArray], npt.ArrayLike],
    base: ConversionTable,
    *,
    n_items: int | None = None,
    csem: npt.ArrayLike | None = None,
    version: str = "1",
    metadata: Mapping[str, JsonScalar] | None = None,
) -> ConversionTable:
    r"""
    Conversion of a new form X through its equating onto the base form Y.

    Parameters
    ----------
    equated : array_like, shape (Kx + 1,), or callable
        The equating function ``e_Y(x)``: the base-form (Y) raw-score equivalent of
        each new-form raw score ``x = 0..Kx``, e.g. the array returned by
        ``scoring.equating.equipercentile`` or a ``LinearEquating`` (any callable
        taking the float array ``0..Kx`` and returning the equated scores; then
        `n_items` is required). Finite and non-decreasing.
    base : ConversionTable
        The base form's raw-to-scale table (any table, including an equated one,
        so forms can be chained).
    n_items : int, optional
        Kx, the maximum raw score of the new form. Required when `equated` is a
        callable; checked against its length otherwise.
    csem : array_like, shape (Kx + 1,), optional
        CSEM per raw score of the new form to store in the table.
    version : str, optional
        Table identifier. Default ``"1"``.
    metadata : mapping, optional
        Free-form JSON scalars stored with the table.

    Returns
    -------
    table : ConversionTable
        On the base table's scale; ``cut_raw`` is the raw cut of the new form, the
        raw score at which the equating function reaches the base form's cut
        (Notes).

    Raises
    ------
    ValueError
        If `equated` has NaN, decreases, has a length other than ``n_items + 1``, or
        never reaches the base cut (nobody could pass the new form); if `n_items`
        is missing for a callable.

    Notes
    -----
    The unrounded scale score of new-form raw score :math:`x` is the base form's
    unrounded conversion at the equated score (Kolen & Brennan 2014, ch. 2,
    :math:`sc[e_Y(x)]`), with the base conversion, known at the integers
    :math:`y = 0..K_Y`, interpolated linearly in between (K&B 2014, ch. 2):

    .. math::

        sc(y) = sc(\lfloor y \rfloor)
                + (y - \lfloor y \rfloor)\,[sc(\lfloor y \rfloor + 1)
                - sc(\lfloor y \rfloor)].

    Equated scores below 0 or above :math:`K_Y` (equipercentile gives down to -0.5
    and up to :math:`K_Y + 0.5`; linear equating may go further) extend the first
    or last segment linearly; the result is then clipped to the scale, so this
    only matters at the ends.

    The new form's raw passing score is the smallest :math:`x` whose equated score
    reaches the base form's cut :math:`c_Y`: :math:`x_c = \min\{x : e_Y(x) \ge
    c_Y\}` (to within 1e-9), so a candidate passes the new form exactly when their
    equated score would pass the base form. The stored ``cut_raw`` is the
    fractional new-form raw score :math:`x^* \in (x_c - 1, x_c]` at which
    :math:`e_Y`, interpolated linearly, equals :math:`c_Y` (0 when :math:`e_Y(0)
    \ge c_Y`); keeping it fractional lets tables be chained form to form without
    the cut drifting by rounding. After rounding, the cut rule of
    `ConversionTable` reports :math:`x_c` as exactly the passing score, every
    higher score at least that and every lower one at most one increment below,
    even where rounding would have carried a score just below the equated cut up
    to the passing score (K&B 2014, ch. 9).

    References
    ----------
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), ch. 2 and 9. Springer.

    Examples
    --------
    The K&B (2014, table 2.2) hypothetical equipercentile equivalents of a 4-item
    form X, onto a base form Y scored 0-100 by 10 with cut 2:

    >>> base = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10))
    >>> base.unrounded
    array([ 20.,  40.,  60.,  80., 100.])
    >>> new = equated_conversion([0.5, 1.75, 2.8333, 3.5, 4.25], base)
    >>> round(new.cut_raw, 4), new.passing_raw
    (1.2308, 2)
    >>> new.scaled
    array([ 30.,  50.,  60.,  90., 100.])
    """
    if callable(equated):
        if n_items is None:
            raise ValueError("n_items is required when equated is a callable")
        kx = _check_n_items(n_items)
        e = _vector(equated(np.arange(kx + 1, dtype=np.float64)), "equated")
        if e.shape != (kx + 1,):
            raise ValueError(
                f"equated(x) must return one score per raw score 0..{kx}, "
                f"got shape {e.shape}"
            )
    else:
        e = _vector(equated, "equated")
        if e.shape[0] < 2:
            raise ValueError("equated must give one score per raw score 0..Kx with Kx >= 1")
        if n_items is not None and _check_n_items(n_items) != e.shape[0] - 1:
            raise ValueError(
                f"equated has {e.shape[0]} scores but n_items = {n_items} needs "
                f"{n_items + 1} (raw scores 0..n_items)"
            )
    if not isinstance(base, ConversionTable):
        raise ValueError(f"base must be a ConversionTable, got {type(base).__name__}")
    if np.any(np.diff(e) < 0):
        first = int(np.argmax(np.diff(e) < 0))
        raise ValueError(
            "equated must be a non-decreasing (monotone) equating function, but "
            f"equated[{first + 1}] = {e[first + 1]:g} < equated[{first}] = {e[first]:g}"
        )
    x_star = _raw_cut(e, base.cut_raw)
    if x_star is None:
        raise ValueError(
            f"no raw score of the new form reaches the base form's cut ({base.cut_raw:g}): "
            f"the highest equated score is {e[-1]:g}, so nobody could pass"
        )
    unrounded = _interpolate(e, np.asarray(base.unrounded, dtype=np.float64))
    scale = base.scale
    return ConversionTable(
        raw=np.arange(e.shape[0], dtype=np.int64),
        unrounded=unrounded,
        scaled=_apply_cut_rule(unrounded, x_star, scale),
        cut_raw=x_star,
        scale=scale,
        version=version,
        method=(
            f"equated: raw x -> e_Y(x) on the base form, then the base table "
            f"{base.version!r} interpolated linearly (base cut {base.cut_raw:g}); raw "
            f"cut {x_star:.6g}, raw passing score {_passing_raw(x_star)}; clipped, rounded "
            f"half up to {scale.increment:g}, cut rule applied"
        ),
        csem=csem,
        metadata=metadata if metadata is not None else {},
    )
