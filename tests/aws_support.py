"""Helpers for the tests of the AWS path (moto server): moto's request log, the lake's objects, local figures."""

from __future__ import annotations

import logging
import re

import pytest


class RequestLog(logging.Handler):
    """moto's server logs each HTTP request it serves (werkzeug's access log): keep the request lines."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def get_objects(self, bucket: str) -> list[str]:
        """The keys of the GetObject requests on ``bucket`` (a GET of a key, not a listing)."""
        return [m.group(1) for line in self.lines if (m := re.search(rf'"GET /{bucket}/([^? ]+) HTTP', line))]


@pytest.fixture
def request_log():
    log = RequestLog()
    logger = logging.getLogger("werkzeug")
    logger.addHandler(log)
    logger.setLevel(logging.INFO)
    yield log
    logger.removeHandler(log)


def lake_state(s3, bucket: str = "lake", prefix: str = "warehouse/") -> dict[str, str]:
    """Key -> ETag of every object under the prefix."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}
