"""A package's zip, opened as untrusted input.

Checked before anything is read: entry names that would leave the package (``..``, absolute,
backslashes), links, encryption, duplicate names, the number of entries and the unpacked size
(a zip bomb is refused from its directory, before any byte is inflated). Entries are then read
one at a time with a size cap. Nothing is ever extracted under a name taken from the zip.
"""

from __future__ import annotations

import posixpath
import re
import stat
import zipfile
from pathlib import Path
from urllib.parse import unquote

MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # unpacked
MIB = 1024 * 1024
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class PackageError(ValueError):
    """The package cannot be read at all (not a zip, unsafe, too big, no manifest)."""


def _unsafe_name(name: str) -> str | None:
    if "\\" in name:
        return "a backslash in the name (a Windows path)"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "a path outside the package ('..')"
    if "" in parts:
        return "an empty path segment"
    return None


class SafeZip:
    """The checked entries of a package, read one at a time with a size cap."""

    def __init__(self, path: Path, shown: str) -> None:
        self.shown = shown
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as err:
            raise PackageError(f"{shown}: not a zip file ({err})") from None
        infos = self.archive.infolist()
        if len(infos) > MAX_ENTRIES:
            self._refuse(f"{len(infos)} entries; the limit is {MAX_ENTRIES}")
        self.entries: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            problem = _unsafe_name(info.filename)
            if problem:
                self._refuse(f"unsafe entry {info.filename!r}: {problem}")
            if stat.S_ISLNK(info.external_attr >> 16):
                self._refuse(f"unsafe entry {info.filename!r}: a symbolic link")
            if info.flag_bits & 0x1:
                self._refuse(f"entry {info.filename!r} is encrypted")
            if info.is_dir():
                continue
            if info.filename in self.entries:
                self._refuse(f"entry {info.filename!r} is in the zip twice")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                self._refuse(f"it unpacks to more than {MAX_TOTAL_BYTES / MIB:g} MiB, the "
                             "limit (a zip bomb?)")
            self.entries[info.filename] = info

    def _refuse(self, why: str) -> None:
        self.archive.close()
        raise PackageError(f"{self.shown}: refused: {why}")

    def read(self, name: str, limit: int) -> bytes:
        """The entry's bytes; ValueError if it is over ``limit`` (declared or actual)."""
        info = self.entries[name]
        if info.file_size > limit:
            raise ValueError(f"{info.file_size / MIB:.1f} MiB; the limit is "
                             f"{limit / MIB:g} MiB")
        try:
            with self.archive.open(info) as handle:
                data = handle.read(limit + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as err:
            raise PackageError(f"{self.shown}: corrupt entry {name!r} ({err})") from None
        if len(data) > limit:
            raise ValueError(f"more than {limit / MIB:g} MiB, the limit")
        return data

    def close(self) -> None:
        self.archive.close()


def resolve(base: str, href: str) -> str | None:
    """The zip entry a reference in ``base`` names, or None if it points outside the
    package (another scheme, an absolute path, '..' past the top)."""
    href = href.strip()
    if not href or SCHEME.match(href) or href.startswith(("/", "\\")):
        return None
    path = unquote(href.split("#", 1)[0].split("?", 1)[0])
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), path))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined
