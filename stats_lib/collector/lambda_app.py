"""The collector behind a Lambda Function URL: the same Starlette application through Mangum, events to Firehose.

``handler`` is what ``stats_lib.aws.handlers.collector`` delegates to; ``deliveries`` is the scheduled step that
turns Firehose's delivered objects into StoredEvent Parquet. The application (its enrichment tables, geolocation
database and Firehose client) is built on a container's first invocation and reused by the next ones, as Lambda
intends; Function URL events carry the client's address as ``requestContext.http.sourceIp``.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import cache

from ..config import Settings


@cache
def _adapter():
    """One ASGI-to-Lambda adapter per container (built on first use)."""
    from mangum import Mangum

    from .app import create_app
    from .firehose import FirehoseSink

    settings = Settings.from_env(progress=False)
    return Mangum(create_app(settings, FirehoseSink(settings)), lifespan="off")


def handler(event: dict, context: object) -> dict:
    """A Function URL request (payload 2.0) -> the collector's answer."""
    return _adapter()(event, context)


def deliveries(event: dict, context: object) -> dict:
    """The scheduled step: every new Firehose delivery into StoredEvents, exactly once; returns its counts."""
    from .firehose import convert_deliveries

    result = convert_deliveries(Settings.from_env(progress=False))
    return {k: v for k, v in asdict(result).items() if k != "names"}
