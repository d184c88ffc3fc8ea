"""A drop folder for providers that deliver invoice files (SFTP, a shared share) instead of a feed.

``scan()`` yields the ``*.xml`` files directly in the folder, in name order, each read once and
bounded. Anything else is skipped and listed in ``skipped`` with the reason: names with a path
separator or ``..``, with control/format characters (a newline, a right-to-left override) or bytes
that are not UTF-8, names over ``MAX_NAME`` characters, hidden files (leading dot), partial uploads
(``.tmp``, ``.part``), symbolic links, sub-directories (vangnet's own ``processed/``, ``quarantine/``
and ``responses/`` silently), other file types and files over ``max_bytes``. The caller stores
``data`` raw, then calls ``mark_done`` to move the file into ``processed/`` or ``quarantine/``
(created when missing).
A move never overwrites: a name already there gets a numeric suffix (``inv.1.xml``).
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["DropFile", "DropFileChanged", "DropFolder"]

MAX_BYTES = 20 * 1024 * 1024
MAX_NAME = 120
"""Longest file name taken: the name is the document's key in the inbox (``drop:<name>``, 128 characters)."""
SUBFOLDERS = {"processed": "processed", "quarantined": "quarantine"}
OWN_FOLDERS = frozenset(SUBFOLDERS.values()) | {"responses"}
"""Sub-folders vangnet itself keeps in a drop folder (``responses/``: status files for the provider); not reported."""
_PARTIAL = (".tmp", ".part")


class DropFileChanged(RuntimeError):
    """The file changed or was replaced between ``scan`` and ``mark_done``; it stays where it is, so the
    next scan reads it again."""


@dataclass(frozen=True)
class DropFile:
    """One file as read by :meth:`DropFolder.scan`: its name, path, bytes and SHA-256 (hex)."""

    name: str
    path: Path
    data: bytes = field(repr=False)
    sha256: str
    identity: tuple[int, int, int] = field(default=(0, 0, 0), repr=False, compare=False)
    """(inode, size, mtime_ns) when read: ``mark_done`` refuses to move a file that changed since."""


class DropFolder:
    """The files one provider drops into ``path``. ``skipped`` lists (name, reason) of the last scan."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.skipped: list[tuple[str, str]] = []

    def scan(self) -> Iterator[DropFile]:
        """The acceptable files in name order, read one at a time (``skipped`` is complete once the
        iteration ends)."""
        self.skipped = []
        if not self.path.is_dir():
            raise FileNotFoundError(f"drop folder {self.path} does not exist or is not a folder; create it or "
                                    "fix the configured path")
        for name in sorted(os.listdir(self.path)):
            result = self._read(name)
            if isinstance(result, DropFile):
                yield result
            elif result is not None:
                self.skipped.append((name, result))

    def mark_done(self, file: DropFile, outcome: Literal["processed", "quarantined"]) -> Path:
        """Move ``file`` into ``processed/`` or ``quarantine/`` under a name not yet taken; returns the new
        path. Store ``file.data`` first: after this the file is no longer offered by ``scan``."""
        if outcome not in SUBFOLDERS:
            raise ValueError(f"outcome must be one of {sorted(SUBFOLDERS)}, got {outcome!r}")
        if file.path.parent != self.path:
            raise ValueError(f"{file.name} was not read from drop folder {self.path}")
        try:
            st = os.lstat(file.path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{file.name} is no longer in drop folder {self.path}; another process may "
                                    "have moved it") from None
        if (st.st_ino, st.st_size, st.st_mtime_ns) != file.identity:
            raise DropFileChanged(f"{file.name} in drop folder {self.path} changed after it was read; left in "
                                  "place so the next scan reads it again")
        target_dir = self.path / SUBFOLDERS[outcome]
        target_dir.mkdir(exist_ok=True)
        if target_dir.is_symlink() or not target_dir.is_dir():
            raise NotADirectoryError(f"{target_dir} must be a real folder (not a link or a file)")
        target = self._reserve(target_dir, file.name)
        try:
            os.replace(file.path, target)  # atomic within one file system; replaces only our placeholder
        except OSError:
            target.unlink(missing_ok=True)
            raise
        return target

    # -- internals -------------------------------------------------------------------------------
    def _read(self, name: str) -> DropFile | str | None:
        """The file, the reason it is skipped, or None for our own sub-folders."""
        path = self.path / name
        if "\\" in name or "/" in name or ".." in name:
            return "unsafe name (path separator or '..')"
        if any(unicodedata.category(c).startswith("C") for c in name):
            return "unsafe name (control, format or non-UTF-8 character)"
        if len(name) > MAX_NAME:
            return f"name longer than {MAX_NAME} characters; rename it"
        if name.startswith("."):
            return "hidden or partial file (leading dot)"
        if name.lower().endswith(_PARTIAL):
            return "partial upload (.tmp/.part)"
        try:
            st = os.lstat(path)
        except OSError as exc:
            return f"could not be read ({type(exc).__name__})"
        if stat.S_ISLNK(st.st_mode):
            return "symbolic link (not followed)"
        if stat.S_ISDIR(st.st_mode):
            return None if name in OWN_FOLDERS else "sub-directory (not scanned)"
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if not name.lower().endswith(".xml"):
            return "not an .xml file"
        if st.st_size > self.max_bytes:
            return f"larger than {self.max_bytes} bytes"
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            return f"could not be read ({type(exc).__name__})"
        with os.fdopen(fd, "rb") as handle:
            opened = os.fstat(handle.fileno())
            if not stat.S_ISREG(opened.st_mode) or opened.st_ino != st.st_ino:
                return "replaced while being read"
            data = handle.read(self.max_bytes + 1)
            after = os.fstat(handle.fileno())
        if len(data) > self.max_bytes:
            return f"larger than {self.max_bytes} bytes"
        if (after.st_size, after.st_mtime_ns) != (len(data), opened.st_mtime_ns):
            return "still being written (changed while read)"
        return DropFile(name=name, path=path, data=data, sha256=hashlib.sha256(data).hexdigest(),
                        identity=(after.st_ino, after.st_size, after.st_mtime_ns))

    @staticmethod
    def _reserve(directory: Path, name: str) -> Path:
        """Create an empty placeholder under a free name (``O_EXCL``: never someone else's file)."""
        stem, suffix = os.path.splitext(name)
        for n in range(100_000):
            candidate = directory / (name if n == 0 else f"{stem}.{n}{suffix}")
            try:
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                continue
            return candidate
        raise FileExistsError(f"no free name for {name} in {directory}; clean it up")
