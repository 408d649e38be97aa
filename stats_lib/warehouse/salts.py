"""Daily visitor-id salts: one random secret per UTC day, deleted once that day's logs can no longer arrive.

``SaltStore`` is the policy (create on first use, remember, warn when a day's salt was already deleted, purge
past the retention window); where the salts live is a ``SaltBackend``:

- ``read(day) -> bytes | None``: the day's salt, or None when there is none (never created, or deleted);
- ``create(day, value) -> bytes``: store ``value`` as the day's salt unless one exists, and return the salt that
  is stored afterwards. When two writers race, both must get the *winner's* value (exclusive create locally,
  ``If-None-Match: *`` on S3), so concurrent ingests of one day agree on its visitor ids;
- ``delete(day)``: remove the day's salt and leave a tombstone (no secret in it) that remembers it existed;
- ``deleted(day) -> bool``: whether that tombstone exists (a late ingest of the day is warned about);
- ``days() -> list[str]``: the days ('YYYY-MM-DD') that have a salt now.

``LocalSaltFolder`` keeps them in a warehouse folder as ``YYYY-MM-DD.key`` (hex) and ``YYYY-MM-DD.deleted``.
The store knows nothing of visitor ids: the hasher (enrichment state) asks it for a day's salt.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..dates import utc_today
from .lock import is_live_tmp, tmp_tag


class ExpiredSaltWarning(UserWarning):
    """An ingest needed a day whose salt was already deleted: its visitors will not match earlier ones."""


class SaltBackend(Protocol):
    """Where salts are kept; see the module docstring for what each method promises."""

    def read(self, day: str) -> bytes | None: ...

    def create(self, day: str, value: bytes) -> bytes: ...

    def delete(self, day: str) -> None: ...

    def deleted(self, day: str) -> bool: ...

    def days(self) -> list[str]: ...


class LocalSaltFolder:
    """Salts as files in a folder: ``YYYY-MM-DD.key`` holds the hex salt, ``YYYY-MM-DD.deleted`` is a tombstone.

    Private: the folder is 0700 and every file 0600 (``secure`` tightens an older warehouse's). A salt is created
    atomically: its value is written and synced to a temporary file of this process's own (exclusive create),
    which is then hard-linked to the key's name, which fails when another writer got there first; either way
    the key is read back, so every concurrent creator returns the one stored salt. A key is never seen half
    written. The temporary file's name ends in the writer's host and pid (``lock.tmp_tag``), so one left by a
    writer killed mid-create is known as left over (``secure`` and the warehouse's clean-up remove it) while a
    running writer's is kept.
    """

    FOLDER_MODE = 0o700
    FILE_MODE = 0o600
    STALE_TMP_SECONDS = 3600  # a temporary salt this old is left over even if its pid runs (reused pid)

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _key(self, day: str) -> Path:
        return self.folder / f"{day}.key"

    def secure(self) -> None:
        """Create the folder (0700) and make it and every file in it private; remove the temporary salts of writers
        that no longer run (or this old: ``STALE_TMP_SECONDS``)."""
        self.folder.mkdir(mode=self.FOLDER_MODE, parents=True, exist_ok=True)
        os.chmod(self.folder, self.FOLDER_MODE)
        now = time.time()
        for path in self.folder.iterdir():
            try:
                if path.name.endswith(".tmp") and (
                        not is_live_tmp(path) or now - path.stat().st_mtime > self.STALE_TMP_SECONDS):
                    path.unlink()
                elif path.stat().st_mode & 0o077:
                    os.chmod(path, self.FILE_MODE)
            except FileNotFoundError:  # removed meanwhile by another run
                continue

    def read(self, day: str) -> bytes | None:
        try:
            text = self._key(day).read_text()
        except FileNotFoundError:
            return None
        return bytes.fromhex(text.strip())

    def create(self, day: str, value: bytes) -> bytes:
        existing = self.read(day)
        if existing is not None:
            return existing
        if not self.folder.is_dir():
            self.secure()
        key = self._key(day)
        tmp = self.folder / f".{day}.{secrets.token_hex(8)}.{tmp_tag()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.FILE_MODE)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(value.hex())
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, key)  # atomic, never replaces: the first writer wins
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
        stored = self.read(day)
        if stored is None:  # deleted between our link and our read: only a purge of this very day does that
            raise RuntimeError(f"the salt for {day} vanished while it was being created")
        return stored

    def delete(self, day: str) -> None:
        if not self.folder.is_dir():
            self.secure()
        tombstone = self.folder / f"{day}.deleted"
        os.close(os.open(tombstone, os.O_WRONLY | os.O_CREAT, self.FILE_MODE))
        self._key(day).unlink(missing_ok=True)

    def deleted(self, day: str) -> bool:
        return (self.folder / f"{day}.deleted").exists()

    def days(self) -> list[str]:
        return sorted(key.stem for key in self.folder.glob("*.key")) if self.folder.exists() else []

    def forget_day(self, day: str) -> None:
        """Remove the day's salt and its tombstone (``prune``: the day's data is gone, so is every trace)."""
        self._key(day).unlink(missing_ok=True)
        (self.folder / f"{day}.deleted").unlink(missing_ok=True)

    def tombstones(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.deleted")) if self.folder.exists() else []


@dataclass
class SaltStore:
    """Daily random salts from a ``SaltBackend`` (see the module docstring).

    A salt is created on first use for a day and deleted ``retention_days`` after that day ends; a tombstone
    remembers that it existed so a late ingest can warn (``ExpiredSaltWarning``, once per day and store).
    """

    backend: SaltBackend
    retention_days: int = 2
    today: dt.date | None = None
    expired_days_used: set[str] = field(default_factory=set)
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)

    @classmethod
    def in_folder(cls, folder: str | Path, retention_days: int = 2, today: dt.date | None = None) -> SaltStore:
        """A store kept in a local folder (a warehouse's ``_salts``)."""
        return cls(LocalSaltFolder(folder), retention_days=retention_days, today=today)

    def salt(self, day: str) -> bytes:
        """The salt of ``day`` ('YYYY-MM-DD'), created (32 random bytes) when it has none yet."""
        value = self._cache.get(day)
        if value is not None:
            return value
        value = self.backend.read(day)
        if value is None:
            if self.backend.deleted(day) and day not in self.expired_days_used:
                self.expired_days_used.add(day)
                warnings.warn(
                    f"the salt for {day} was already deleted: visitors of this ingest on {day} get new ids and "
                    "will not match the ones counted before",
                    ExpiredSaltWarning,
                    stacklevel=2,
                )
            value = self.backend.create(day, secrets.token_bytes(32))
        self._cache[day] = value
        return value

    def purge(self) -> list[str]:
        """Delete the salts of days older than the retention window; return those days."""
        today = self.today or utc_today()
        cutoff = today - dt.timedelta(days=self.retention_days)
        removed = []
        for day in self.backend.days():
            try:
                old = dt.date.fromisoformat(day) < cutoff
            except ValueError:
                continue
            if old:
                self.backend.delete(day)
                self._cache.pop(day, None)
                removed.append(day)
        return removed
