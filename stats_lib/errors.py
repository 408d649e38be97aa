"""The package's one exception base, and the translation of outside failures into it.

Every error site-stats raises on purpose is a ``SiteStatsError``: a message saying what went wrong and a
``hint`` saying what to do, printed by the CLI as ONE line on stderr (``site-stats: error: <what>; <hint>``).

- ``UserError``: bad input the user can fix (a bad date, an unknown query or format, a warehouse that is not
  one, a bad environment variable). It is also a ``ValueError``, so older callers that catch that still work.
- ``EnvironmentFault``: the machine or the network is in the way (full disk, no permission, no AWS region,
  no network, a missing bucket, a warehouse locked by another run).

Both exit with status 2 from the CLI ("the command could not do its work"); status 1 is kept for a run that
finished but had failed files (the summary names them). ``translate`` turns the OS, botocore, pyarrow and
DuckDB exceptions a user can cause into one of these; the CLI applies it to anything that escapes a command.
"""

from __future__ import annotations

import errno


class SiteStatsError(Exception):
    """A failure with a one-line explanation and a one-line "what to do"."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint as one line (newlines inside either are flattened)."""
        text = self.message if not self.hint else f"{self.message}; {self.hint}"
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.one_line()


class UserError(SiteStatsError, ValueError):
    """Bad input the user can fix."""


class NotAWarehouse(UserError):
    """``--warehouse`` names something that is not a site-stats warehouse."""


class EnvironmentFault(SiteStatsError):
    """The environment (disk, permissions, network, cloud configuration) prevents the work."""


class WarehouseLocked(EnvironmentFault):
    """Another run holds the warehouse lock and did not let go in time."""


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def translate(exc: BaseException) -> SiteStatsError | None:
    """The ``SiteStatsError`` an outside exception stands for, or None when it is not one a user can cause."""
    if isinstance(exc, SiteStatsError):
        return exc
    for probe in (_botocore, _duckdb, _arrow, _os):
        found = probe(exc)
        if found is not None:
            return found
    return None


def _where(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else ""
    return f" ({name})" if name else ""


def _os(exc: BaseException) -> SiteStatsError | None:
    if isinstance(exc, MemoryError):
        return EnvironmentFault("out of memory", "close other programs or ingest fewer files at once")
    if not isinstance(exc, OSError):
        return None
    text = str(exc)
    if exc.errno in _DISK_FULL or "No space left" in text or "File too large" in text:
        return EnvironmentFault(f"the disk is full{_where(exc)}", "free some space or point --warehouse at another disk")
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return EnvironmentFault(f"permission denied{_where(exc)}", "check the owner and mode of that path, or use another")
    if isinstance(exc, NotADirectoryError) or exc.errno == errno.ENOTDIR:
        return UserError(f"a file stands where a folder is needed{_where(exc)}", "give a folder path, not a file")
    if isinstance(exc, IsADirectoryError):
        return UserError(f"a folder stands where a file is needed{_where(exc)}", "give a file path, not a folder")
    if isinstance(exc, FileExistsError):
        return UserError(f"a file is in the way{_where(exc)}", "move it away or choose another path")
    if isinstance(exc, FileNotFoundError):
        return UserError(f"no such file or folder{_where(exc) or ': ' + text}", "check the path")
    if _is_network(text) or isinstance(exc, (ConnectionError, TimeoutError)):
        return EnvironmentFault(f"cannot reach the storage service: {_short(text)}",
                                "check the network and AWS_ENDPOINT_URL, then run again")
    if "NoSuchBucket" in text or "bucket does not exist" in text.lower():
        return EnvironmentFault(f"the bucket does not exist: {_short(text)}", "check the s3:// URI")
    if "AccessDenied" in text or "ACCESS_DENIED" in text:
        return EnvironmentFault(f"AWS denied access: {_short(text)}", "check your credentials and the bucket policy")
    if "Parquet" in text or "parquet" in text:
        return UserError(f"a damaged Parquet file in the warehouse: {_short(text)}",
                         "delete that file and re-ingest its source (its ledger record names it)")
    if exc.errno is not None:
        return EnvironmentFault(f"{exc.strerror or text}{_where(exc)}", "check that path and run again")
    return None


def _is_network(text: str) -> bool:
    markers = ("NETWORK_CONNECTION", "Could not connect", "Connection refused", "Name or service not known",
               "Temporary failure in name resolution", "curlCode: 6", "curlCode: 7", "Couldn't connect",
               "Failed to connect", "timed out")
    return any(m in text for m in markers)


def _short(text: str, cap: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= cap else text[: cap - 1] + "…"


def _arrow(exc: BaseException) -> SiteStatsError | None:
    """pyarrow's ArrowInvalid (a ValueError) for a damaged Parquet file; its I/O errors are OSErrors (``_os``)."""
    text = str(exc)
    if type(exc).__module__.startswith("pyarrow") and isinstance(exc, ValueError) and "arquet" in text:
        return UserError(f"a damaged Parquet file in the warehouse: {_short(text)}",
                         "delete that file and re-ingest its source (its ledger record names it)")
    return None


def _botocore(exc: BaseException) -> SiteStatsError | None:
    try:
        from botocore import exceptions as bc
    except ModuleNotFoundError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exc, bc.NoRegionError):
        return EnvironmentFault("no AWS region is configured", "set AWS_REGION (or AWS_DEFAULT_REGION), e.g. AWS_REGION=eu-west-1")
    if isinstance(exc, (bc.NoCredentialsError, bc.PartialCredentialsError)):
        return EnvironmentFault("no AWS credentials found", "configure them (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID)")
    if isinstance(exc, (bc.EndpointConnectionError, bc.ConnectTimeoutError, bc.ReadTimeoutError)):
        return EnvironmentFault(f"cannot reach AWS: {_short(str(exc))}", "check the network and AWS_ENDPOINT_URL, then run again")
    if isinstance(exc, bc.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in ("NoSuchBucket", "404"):
            bucket = error.get("BucketName")
            what = f"the bucket {bucket} does not exist" if bucket else f"the bucket does not exist: {_short(str(exc))}"
            return EnvironmentFault(what, "check the s3:// URI")
        if code in ("AccessDenied", "403", "UnrecognizedClientException", "InvalidAccessKeyId", "ExpiredToken"):
            return EnvironmentFault(f"AWS refused the request: {_short(str(exc))}", "check your credentials and policies")
        return EnvironmentFault(f"AWS error: {_short(str(exc))}", "check the AWS configuration and run again")
    if isinstance(exc, bc.BotoCoreError):
        return EnvironmentFault(f"AWS client error: {_short(str(exc))}", "check the AWS configuration and run again")
    return None


def _duckdb(exc: BaseException) -> SiteStatsError | None:
    try:
        import duckdb
    except ModuleNotFoundError:  # pragma: no cover - duckdb is a dependency
        return None
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc)
    if "magic bytes" in text.lower() or "parquet" in text.lower() or isinstance(exc, duckdb.InvalidInputException):
        return UserError(f"a damaged file in the warehouse: {_short(text)}",
                         "delete that file and re-ingest its source (its ledger record names it)")
    if isinstance(exc, duckdb.IOException):
        return EnvironmentFault(f"cannot read the warehouse: {_short(text)}", "check --warehouse and the disk")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return EnvironmentFault("the query ran out of memory", "narrow --start/--end or free memory")
    return None
