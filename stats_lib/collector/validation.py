"""The request body of ``POST /api/event``: parsed, validated and capped, or refused naming the field.

Body: ``{"name": "pageview" | custom, "url": "https://site/path?query", "referrer": "...", "props": {...}}``.
The server-to-server fields ``ip`` (also ``ip_addr``), ``timestamp`` and ``user_agent`` (also ``agent``, the
seed's names) are parsed here too, but only the caller knows whether the request was signed and may use them.
Every string is hostile: control and bidirectional-override characters are removed, lengths are capped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

MAX_NAME = 64
MAX_URL = 2048
MAX_PROPS = 30
MAX_PROP_KEY = 64
MAX_PROP_VALUE = 256
MAX_USER_AGENT = 1024
FIELDS = ("name", "url", "referrer", "props")
SIGNED_FIELDS = ("ip", "ip_addr", "timestamp", "user_agent", "agent")
CONTENT_TYPES = ("application/json", "text/plain")  # text/plain: what navigator.sendBeacon sends for a string

# C0/C1 controls, the bidirectional marks and overrides that can make text display as something else, and lone
# surrogates (a JSON body may spell one as an escape; no UTF-8 text can hold it).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class BadRequest(Exception):
    """A request the collector refuses: ``status`` (4xx), the offending ``field`` (or None) and a message."""

    def __init__(self, status: int, message: str, field: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict:
        out = {"error": str(self)}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(slots=True)
class EventIn:
    """A validated event: what the client may say, plus the server-to-server overrides (checked later)."""

    name: str
    url: str
    host: str  # the URL's host, lower-case, without port
    path: str  # percent-decoded, without query
    query: str | None
    referrer: str | None
    props: dict = field(default_factory=dict)
    ip: str | None = None
    timestamp: dt.datetime | None = None  # naive UTC
    user_agent: str | None = None

    @property
    def overrides(self) -> tuple[str, ...]:
        """The server-to-server fields the body carries (they need a signature)."""
        return tuple(name for name in ("ip", "timestamp", "user_agent") if getattr(self, name) is not None)


def neutralise(text: str) -> str:
    """The text without control characters and bidirectional overrides."""
    return _UNSAFE.sub("", text)


def check_content_type(value: str | None) -> None:
    media = (value or "").split(";", 1)[0].strip().lower()
    if media not in CONTENT_TYPES:
        raise BadRequest(415, f"content type {media or 'missing'!r} not accepted; send application/json or text/plain")


def parse_event(body: bytes) -> EventIn:
    """The event a body carries, or ``BadRequest(400)`` naming the field."""
    try:
        data = _DECODER.decode(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest(400, "body is not a UTF-8 JSON document", "body") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "body must be a JSON object", "body")
    unknown = sorted(set(data) - set(FIELDS) - set(SIGNED_FIELDS))
    if unknown:
        raise BadRequest(400, f"unknown field {_show(unknown[0])}", _show(unknown[0], 64))
    name = _text(data, "name", MAX_NAME, required=True)
    url = _text(data, "url", MAX_URL, required=True)
    assert name is not None and url is not None  # required: _text raised BadRequest otherwise
    parts, host = _web_url(url, "url")
    referrer = _text(data, "referrer", MAX_URL)
    if referrer:
        _refuse_script_url(referrer, "referrer")
    return EventIn(
        name=name,
        url=url,
        host=host,
        path=neutralise(unquote(parts.path)) or "/",
        query=parts.query or None,
        referrer=referrer or None,
        props=_props(data.get("props")),
        ip=_ip(data),
        timestamp=_timestamp(data.get("timestamp")),
        user_agent=_text(data, "user_agent", MAX_USER_AGENT) or _text(data, "agent", MAX_USER_AGENT),
    )


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # built once: json.loads with a hook builds one a call


def _show(text: str, cap: int = 40) -> str:
    return repr(neutralise(text)[:cap])


def _text(data: dict, name: str, cap: int, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(400, f"field {name!r} is required", name)
        return None
    if not isinstance(value, str):
        raise BadRequest(400, f"field {name!r} must be a string", name)
    if len(value) > cap:
        raise BadRequest(400, f"field {name!r} is longer than {cap} characters", name)
    value = neutralise(value).strip()
    if required and not value:
        raise BadRequest(400, f"field {name!r} is empty", name)
    return value


def _refuse_script_url(url: str, name: str) -> None:
    scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
    if scheme in ("data", "javascript", "vbscript", "blob", "file"):
        raise BadRequest(400, f"field {name!r}: {scheme}: URLs are refused", name)


def _web_url(url: str, name: str):
    _refuse_script_url(url, name)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise BadRequest(400, f"field {name!r} is not a valid URL", name) from None
    host = parts.hostname
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise BadRequest(400, f"field {name!r} must be an absolute http(s) URL", name)
    return parts, host


def _props(value: object) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(400, "field 'props' must be an object", "props")
    if len(value) > MAX_PROPS:
        raise BadRequest(400, f"field 'props' has more than {MAX_PROPS} keys", "props")
    out: dict = {}
    for key, item in value.items():
        clean = neutralise(key).strip()
        where = f"props.{clean[:MAX_PROP_KEY]}"
        if not clean or len(key) > MAX_PROP_KEY:
            raise BadRequest(400, f"prop keys must be 1 to {MAX_PROP_KEY} characters", "props")
        if isinstance(item, str):
            if len(item) > MAX_PROP_VALUE:
                raise BadRequest(400, f"field {where!r} is longer than {MAX_PROP_VALUE} characters", where)
            item = neutralise(item)
        elif isinstance(item, bool) or item is None:
            pass
        elif isinstance(item, int | float):
            if not math.isfinite(item) or abs(item) > 2**53:
                raise BadRequest(400, f"field {where!r} is not a finite number within 2**53", where)
        else:
            raise BadRequest(400, f"field {where!r}: props take flat values only (string, number, boolean, null)", where)
        out[clean] = item
    return out


def _ip(data: dict) -> str | None:
    for name in ("ip", "ip_addr"):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(400, f"field {name!r} must be a string", name)
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise BadRequest(400, f"field {name!r} is not an IP address", name) from None
    return None


def _timestamp(value: object) -> dt.datetime | None:
    """ISO 8601 text (a zone-less time is UTC) or seconds since the epoch, as naive UTC."""
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise ValueError
            stamp = dt.datetime.fromtimestamp(value, dt.timezone.utc)
        elif isinstance(value, str) and len(value) <= 40:
            stamp = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        else:
            raise TypeError
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadRequest(400, "field 'timestamp' must be ISO 8601 text or seconds since the epoch", "timestamp") from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return stamp
