"""The collector's ASGI application (Starlette) and ``serve`` (uvicorn, one worker).

Routes: ``POST /api/event`` and ``POST /event`` (202 once the event is durable), their CORS preflights,
``GET /js/script.js`` (the tracker), ``GET /health``, ``GET /openapi.json``. The checks run cheapest first:
Origin (403), content type (415), size (413), signature (403), body (400 naming the field), site (403), rate (429).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..config import Settings
from ..errors import EnvironmentFault
from . import openapi
from .security import SIGNATURE_HEADER, ClientAddress, RateLimiter, Signatures, SitePolicy
from .store import ip_prefix_of, mask_ips, raw_row
from .validation import BadRequest, EventIn, check_content_type, parse_event

log = logging.getLogger(__name__)
TIMESTAMP_FUTURE = dt.timedelta(minutes=5)


class Sink(Protocol):
    """Where accepted events go: ``submit`` returns once the event is durable."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    async def submit(self, row: dict) -> None: ...
    @property
    def healthy(self) -> bool: ...


@dataclass
class Collector:
    """Everything a request needs, built once from the settings."""

    settings: Settings
    sink: Sink
    policy: SitePolicy
    signatures: Signatures
    address: ClientAddress
    limiter: RateLimiter
    tracker: bytes
    refused: Counter = field(default_factory=Counter)  # status -> requests refused

    @classmethod
    def of(cls, settings: Settings, sink: Sink) -> Collector:
        if not settings.sites:
            raise ValueError("name at least one site: --site example.com (or env SITE_STATS_SITES)")
        return cls(
            settings=settings,
            sink=sink,
            policy=SitePolicy.of(settings.sites),
            signatures=Signatures(settings.collector_secret),
            address=ClientAddress.of(settings.collector_proxy, settings.collector_proxy_networks,
                                     settings.collector_trusted_hops),
            limiter=RateLimiter(settings.collector_rate, settings.collector_burst),
            tracker=resources.files(__package__).joinpath("tracker.min.js").read_bytes(),
        )

    # -- POST /api/event: a plain ASGI endpoint (the hot path: no Request/Response objects) -----------------
    async def event(self, scope: dict, receive, send) -> None:
        headers = _headers(scope)
        origin = headers.get("origin")
        cors = self.policy.cors_headers(origin)
        try:
            row = await self._accept(headers, scope.get("client"), receive, origin)
            await self.sink.submit(row)
        except BadRequest as exc:
            self.refused[exc.status] += 1
            await _answer(send, exc.status, exc.body(), {**cors, **exc.headers})
            return
        except Exception as exc:  # the sink could not make the event durable: the client may retry
            self.refused[503] += 1
            log.error("an event could not be stored: %s", mask_ips(str(exc)))
            await _answer(send, 503, {"error": "events cannot be stored right now; retry later"},
                          {**cors, "Retry-After": "5"})
            return
        await _answer(send, 202, ACCEPTED_BODY, cors)

    async def _accept(self, headers: dict[str, str], client, receive, origin: str | None) -> dict:
        """The RAW row of an acceptable request, or ``BadRequest``."""
        if not self.policy.origin_allowed(origin):
            raise BadRequest(403, "requests from this Origin are not accepted", "Origin")
        check_content_type(headers.get("content-type"))
        body = await self._body(headers, receive)
        signature = headers.get(SIGNATURE_HEADER)
        if signature is not None:
            self.signatures.verify(signature, body)
        event = parse_event(body)
        if event.overrides and signature is None:
            name = event.overrides[0]
            raise BadRequest(400, f"field {name!r} is accepted only on a signed server-to-server request "
                                  "(X-Signature)", name)
        site = self.policy.site_of(event.host)
        peer = client[0] if client else None
        ip, geo = (event.ip, {}) if event.ip else self.address.resolve(peer, headers)
        if signature is None:
            wait = self.limiter.take(ip_prefix_of(ip) or "unknown")
            if wait:
                raise BadRequest(429, "too many events from this network; retry later", None,
                                 {"Retry-After": str(max(1, math.ceil(wait)))})
        return raw_row(
            ts=self._time(event), client_ip=ip, site=site, path=event.path, query=event.query,
            referrer=event.referrer, user_agent=event.user_agent or headers.get("user-agent", ""),
            name=event.name, props=event.props, protocol=event.url.split(":", 1)[0].lower(), geo=geo,
        )

    async def _body(self, headers: dict[str, str], receive) -> bytes:
        """The request body, refused with 413 as soon as it is known to exceed the cap."""
        cap = self.settings.collector_max_body
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise BadRequest(400, "Content-Length is not a number", "Content-Length")
            if int(length) > cap:
                raise BadRequest(413, f"body over {cap} bytes")
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadRequest(400, "the client went away before the body was complete", "body")
            body += message.get("body", b"")
            if len(body) > cap:
                raise BadRequest(413, f"body over {cap} bytes")
            if not message.get("more_body", False):
                return bytes(body)

    def _time(self, event: EventIn) -> dt.datetime:
        """The server clock (UTC, ms), or a signed backfill's timestamp within the salts' window."""
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        if event.timestamp is None:
            return now.replace(microsecond=now.microsecond // 1000 * 1000)
        oldest = dt.datetime.combine(now.date() - dt.timedelta(days=self.settings.salt_retention_days), dt.time())
        if not oldest <= event.timestamp <= now + TIMESTAMP_FUTURE:
            raise BadRequest(400, f"field 'timestamp' must lie between {oldest:%Y-%m-%d} (the oldest day whose salt "
                                  "still exists) and five minutes from now", "timestamp")
        return event.timestamp.replace(microsecond=event.timestamp.microsecond // 1000 * 1000)

    # -- the other routes --------------------------------------------------------------------------------
    async def preflight(self, request: Request) -> Response:
        headers = self.policy.preflight_headers(request.headers.get("origin"))
        return Response(status_code=204 if headers else 403, headers=headers)

    async def script(self, request: Request) -> Response:
        return Response(self.tracker, media_type="application/javascript; charset=utf-8", headers={
            "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})

    async def health(self, request: Request) -> Response:
        ok = self.sink.healthy
        body = {"status": "ok" if ok else "unavailable", "sites": sorted(self.policy.sites),
                "refused": {str(k): v for k, v in sorted(self.refused.items())}}
        body.update(getattr(self.sink, "counters", dict)())
        return JSONResponse(body, status_code=200 if ok else 503)

    async def document(self, request: Request) -> Response:
        return JSONResponse(openapi.document(self.policy.sites, self.settings.collector_max_body))


ACCEPTED = {"status": "accepted"}
ACCEPTED_BODY = json.dumps(ACCEPTED, separators=(",", ":")).encode()  # the same for every 202: encoded once


def _headers(scope: dict) -> dict[str, str]:
    """The request's headers by lower-case name; repeated headers joined with ', ' (as HTTP allows)."""
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


async def _answer(send, status: int, body: dict | bytes, headers: dict[str, str]) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def create_app(settings: Settings, sink: Sink | None = None) -> _EventsFirst:
    """The collector for ``settings.sites``; events go to ``sink`` (default: the local WAL -> warehouse)."""
    if sink is None:
        from .sinks import LocalSink

        sink = LocalSink(settings)
    collector = Collector.of(settings, sink)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await asyncio.to_thread(sink.start)
        # Everything built so far (modules, enrichment tables) lives as long as the process: keep it out of the
        # garbage collector's full passes, which would otherwise walk ~100,000 objects (tens of ms) now and then
        # while requests wait.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await asyncio.to_thread(sink.stop)

    routes = [
        Route("/api/event", _EndpointCall(collector.event), methods=["POST"]),
        Route("/event", _EndpointCall(collector.event), methods=["POST"]),
        Route("/api/event", collector.preflight, methods=["OPTIONS"]),
        Route("/event", collector.preflight, methods=["OPTIONS"]),
        Route("/js/script.js", collector.script, methods=["GET"]),
        Route("/health", collector.health, methods=["GET"]),
        Route("/openapi.json", collector.document, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.collector = collector
    return _EventsFirst(app, collector.event)


class _EndpointCall:
    """An ASGI callable as a Starlette route's endpoint (Starlette calls it with scope, receive, send)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


class _EventsFirst:
    """The Starlette application, with ``POST`` of an event answered directly: the hot path skips Starlette's
    middleware and router (``Collector.event`` answers every error itself). ``state`` is the application's."""

    def __init__(self, app: Starlette, event) -> None:
        self.app = app
        self.event = event
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in EVENT_PATHS:
            await self.event(scope, receive, send)
        else:
            await self.app(scope, receive, send)


EVENT_PATHS = ("/api/event", "/event")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the collector with uvicorn on one worker until SIGINT/SIGTERM (then everything is flushed)."""
    import socket

    import uvicorn

    app = create_app(settings)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise EnvironmentFault(f"cannot listen on {host}:{port} ({exc.strerror})",
                               "choose another --port or --host, or stop what uses it") from None
    sites = ", ".join(sorted(app.state.collector.policy.sites))
    print(f"site-stats collector: http://{host}:{port}/api/event for {sites} (tracker: /js/script.js)",
          file=sys.stderr, flush=True)
    config = uvicorn.Config(app, workers=1, loop="uvloop", http="httptools",
                            proxy_headers=False,  # the client IP is ours to decide (security.ClientAddress)
                            access_log=False,  # an access log would write client IPs
                            server_header=False, log_level="warning", timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])
