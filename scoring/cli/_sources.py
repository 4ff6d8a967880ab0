"""Input files read as text, with their SHA-256, and the JSON conversion tables."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from scoring.cli._problems import Problems
from scoring.scaling import ConversionTable

__all__ = ["SourceFile", "read_conversion", "read_source"]


@dataclass(frozen=True)
class SourceFile:
    """An input file read as text, with its SHA-256 (recorded in the JSON outputs)."""

    path: str
    text: str
    sha256: str


def read_source(path: str, problems: Problems) -> SourceFile | None:
    """Read a UTF-8 file (a BOM is dropped); None, with the problem added, if it can't be."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        problems.add(path, 0, "file", "no such file")
        return None
    except IsADirectoryError:
        problems.add(path, 0, "file", "is a directory, not a file")
        return None
    except OSError as exc:
        problems.add(path, 0, "file", f"cannot be read: {exc.strerror or exc}")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(
            path, line, "encoding",
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
        )
        return None
    return SourceFile(path, text, hashlib.sha256(data).hexdigest())


def read_conversion(
    path: str, problems: Problems
) -> tuple[SourceFile | None, ConversionTable | None]:
    """A conversion table saved as versioned JSON (`ConversionTable.to_json`)."""
    source = read_source(path, problems)
    if source is None:
        return None, None
    try:
        return source, ConversionTable.from_json(source.text)
    except ValueError as exc:
        problems.add(path, 0, "conversion", str(exc))
        return source, None
