"""Daily salts as S3 objects, created with a conditional write so that concurrent writers agree.

``<warehouse>/_salts/YYYY-MM-DD.key`` holds the day's salt (hex). It is created with ``If-None-Match: *``: of two
ingests (two Lambda functions, a laptop and a Lambda) racing to create a day's salt, exactly one write succeeds
and the other gets ``412 Precondition Failed`` and reads the winner's salt; what ``create`` returns is always what
is stored. Salt objects are tagged ``site-stats=salt`` so the bucket's lifecycle rule can expire them even if
the clean-up stops; ``YYYY-MM-DD.deleted`` is the tombstone (no secret in it) that ``SaltStore`` warns from.
"""

from __future__ import annotations

import botocore.exceptions

SALT_TAG = "site-stats=salt"
_LOST_RACE = {"PreconditionFailed", "412"}
_IN_FLIGHT = {"ConditionalRequestConflict", "409"}  # another conditional write to the key is in progress
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3SaltFolder:
    """A ``SaltBackend`` (``warehouse/salts.py``) on S3: one object per day under ``prefix``."""

    def __init__(self, client, bucket: str, prefix: str, *, attempts: int = 5) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.attempts = attempts

    def _key(self, day: str, suffix: str = ".key") -> str:
        return f"{self.prefix}/{day}{suffix}" if self.prefix else f"{day}{suffix}"

    def read(self, day: str) -> bytes | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(day))["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return bytes.fromhex(body.decode().strip())

    def create(self, day: str, value: bytes) -> bytes:
        for _ in range(self.attempts):
            try:
                self.client.put_object(Bucket=self.bucket, Key=self._key(day), Body=value.hex().encode(),
                                       IfNoneMatch="*", Tagging=SALT_TAG, ContentType="text/plain")
            except botocore.exceptions.ClientError as exc:
                if _code(exc) in _IN_FLIGHT:
                    continue
                if _code(exc) not in _LOST_RACE:
                    raise
            stored = self.read(day)  # ours, or the winner's when another writer created it first
            if stored is not None:
                return stored
        raise RuntimeError(f"could not create or read the salt of {day} in s3://{self.bucket}/{self._key(day)}")

    def delete(self, day: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(day, ".deleted"), Body=b"")
        self.client.delete_object(Bucket=self.bucket, Key=self._key(day))

    def deleted(self, day: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(day, ".deleted"))
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise
        return True

    def days(self) -> list[str]:
        folder = f"{self.prefix}/" if self.prefix else ""
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder):
            found += [item["Key"][len(folder):-4] for item in page.get("Contents", ()) if item["Key"].endswith(".key")]
        return sorted(found)


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
