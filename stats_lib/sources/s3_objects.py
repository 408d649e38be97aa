"""Log objects in S3: list a prefix, skip what the ledger already holds, download only the new ones.

An S3 object's ledger key is derived from (bucket, key, ETag), which the listing returns, so an object already
ingested is skipped without being read: a run over an unchanged prefix issues list requests only, never a
GetObject. New objects are downloaded several at a time (threads), a bounded window ahead of the ingest, into a
private temporary folder, each with ``If-Match: <ETag>`` so the bytes read are the version the ledger will name. Local files keep their
content-hash key (``ingest.source_key``).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_plus

from ..aws.session import split_uri
from ..config import Settings
from ..errors import UserError

DOWNLOAD_THREADS = 8
_CHUNK = 1 << 20


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str  # as S3 gives it, with its quotes
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def ledger_key(self) -> str:
        """The ledger key of this version of the object: a hash of bucket, key and ETag."""
        return hashlib.sha256(f"s3\x00{self.bucket}\x00{self.key}\x00{self.etag.strip(chr(34))}".encode()).hexdigest()


@dataclass
class Planned:
    """What a run will read from S3: the new objects (``download`` fetches them) and those the ledger holds."""

    client: object
    new: list[S3Object] = field(default_factory=list)
    skipped: list[S3Object] = field(default_factory=list)

    @property
    def listed(self) -> int:
        return len(self.new) + len(self.skipped)

    def download(self, folder: Path, *, threads: int = DOWNLOAD_THREADS) -> Iterator[tuple[S3Object, Path | str]]:
        """Each new object with its local copy in ``folder`` (or why it could not be read), in order, while the
        next ones download (at most ``2 * threads`` ahead, so a long backlog never fills the disk). The caller
        deletes a copy once read."""
        if not self.new:
            return
        ahead = 2 * threads
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="s3-get") as pool:
            running = deque(pool.submit(_download, self.client, obj, folder) for obj in self.new[:ahead])
            for i, obj in enumerate(self.new):
                outcome = running.popleft().result()
                if i + ahead < len(self.new):
                    running.append(pool.submit(_download, self.client, self.new[i + ahead], folder))
                yield obj, outcome


def list_objects(client, uri: str) -> Iterator[S3Object]:
    """Every object under ``uri`` (paginated ``list_objects_v2``): the object the URI names exactly, or those
    below it as a folder. Folder placeholders (keys ending in ``/``) are not objects."""
    bucket, prefix = split_uri(uri)  # without the trailing slash: the URI may name one object or a folder
    folder = prefix + "/" if prefix else ""
    listed = folder if uri.endswith("/") else prefix
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=listed):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/") or not (key == prefix or key.startswith(folder)):
                continue
            yield S3Object(bucket, key, item["ETag"], item["Size"])


def notified_object(record: dict) -> S3Object:
    """The object of one S3 event-notification record (``Records[i]`` of an S3 event; keys arrive URL-encoded)."""
    s3 = record["s3"]
    return S3Object(s3["bucket"]["name"], unquote_plus(s3["object"]["key"]), s3["object"].get("eTag", ""),
                    int(s3["object"].get("size", 0)))


def plan(settings: Settings, uris: list[str], objects: list[S3Object], seen: Callable[[str], bool]) -> Planned:
    """List ``uris`` (each must hold at least one object), add the already known ``objects``, and split them into
    new ones and those the ledger (``seen``) holds; nothing is read yet."""
    from ..aws.session import session

    planned = Planned(session(settings).client("s3"))
    found = list(objects)
    for uri in uris:
        listed = list(list_objects(planned.client, uri))
        if not listed:
            raise UserError(f"no objects under {uri}", "check the bucket and prefix (aws s3 ls " + uri + ")")
        found += listed
    for obj in dict.fromkeys(found):  # the same object named twice (overlapping prefixes) is read once
        (planned.skipped if seen(obj.ledger_key) else planned.new).append(obj)
    return planned


def _download(client, obj: S3Object, folder: Path) -> Path | str:
    """The local copy of ``obj`` (one GetObject, streamed), or why it could not be read."""
    import botocore.exceptions

    target = folder / obj.ledger_key[:20] / _safe_name(obj.key)  # keys are not trusted as paths
    target.parent.mkdir(parents=True, exist_ok=True)
    request = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.etag:
        request["IfMatch"] = obj.etag
    try:
        body = client.get_object(**request)["Body"]
        with open(target, "wb") as out:
            shutil.copyfileobj(body, out, _CHUNK)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        return f"{obj.uri}: cannot read the object ({error.get('Code', '?')}: {error.get('Message', '')})".strip()
    except botocore.exceptions.BotoCoreError as exc:
        return f"{obj.uri}: cannot read the object ({exc})"
    return target


def _safe_name(key: str) -> str:
    """The key's last part as a plain file name (its suffix tells the decompression), never a path."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", key.rsplit("/", 1)[-1])[-200:].lstrip(".")
    return name or "object"
