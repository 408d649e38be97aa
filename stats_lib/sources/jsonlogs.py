"""JSON access logs, one object per line: Nginx (``log_format ... escape=json``), Caddy and Traefik.

- ``caddy_json``: Caddy's ``http.log.access`` logger: ``ts`` (epoch seconds), ``request`` {``client_ip``/
  ``remote_ip``, ``method``, ``host``, ``uri``, ``headers``, ``tls``}, ``status``, ``size``, ``duration`` (s),
  ``resp_headers`` (its ``Content-Type`` is recorded, so it decides pageviews).
- ``traefik_json``: Traefik's access log: ``StartUTC``, ``ClientHost``, ``RequestMethod``, ``RequestHost``,
  ``RequestPath``, ``DownstreamStatus``, ``DownstreamContentSize``, ``Duration`` (ns), ``request_User-Agent`` and
  ``request_Referer`` when headers are kept (absent: the user agent is unknown, not empty).
- ``nginx_json``: no fixed schema; the usual variable names are recognised (``remote_addr``/``ip``,
  ``time_iso8601``/``time_local``/``msec``/``date``, ``request``/``request_uri``/``path``, ``status``,
  ``body_bytes_sent``/``length``, ``http_referer``, ``http_user_agent``, ``host``/``http_host``,
  ``request_time`` (s) or ``generation_time_milli``).

A line that is not a JSON object is rejected; so is one without a usable time or status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .base import (
    LineReader,
    SourceFormat,
    any_time_column,
    client_address,
    decode_distinct,
    finish,
    float_column,
    split_request,
    split_target,
)

Extract = Callable[[dict[str, Any]], dict[str, Any]]


def load_object(line: str) -> dict[str, Any] | None:
    """The JSON object on a line, or None when the line is not one."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def first_object(lines: list[str]) -> dict[str, Any] | None:
    for line in lines:
        if line.strip() and not line.startswith("#"):
            return load_object(line)
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _first(obj: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in obj and obj[key] not in (None, ""):
            return obj[key]
    return None


def _agent(obj: dict[str, Any], *keys: str) -> str | None:
    """The user agent when the format records one: '' when recorded empty or '-', None when no key exists."""
    for key in keys:
        if key in obj:
            value = _text(obj[key])
            return "" if value in (None, "-") else value
    return None


# -- the three variants: one dict of raw (string) fields per object ------------------------------------------


def _caddy(obj: dict[str, Any]) -> dict[str, Any]:
    req: dict[str, Any] = obj["request"] if isinstance(obj.get("request"), dict) else {}
    headers: dict[str, Any] = req["headers"] if isinstance(req.get("headers"), dict) else {}
    resp: dict[str, Any] = obj["resp_headers"] if isinstance(obj.get("resp_headers"), dict) else {}
    _, _, path, query = split_target(_text(req.get("uri")))
    agent = _text(headers.get("User-Agent"))
    return {
        "ts": obj.get("ts"),
        "client_ip": client_address(_text(_first(req, "client_ip", "remote_ip", "remote_addr"))),
        "method": _text(req.get("method")),
        "host": _text(req.get("host")),
        "path": path,
        "query": query,
        "status": obj.get("status"),
        "bytes_sent": obj.get("size"),
        "referrer": _text(headers.get("Referer")),
        "user_agent": "" if agent in (None, "-") else agent,
        "content_type": _text(resp.get("Content-Type")),
        "protocol": "https" if req.get("tls") else "http",
        "seconds": obj.get("duration"),
    }


def _traefik(obj: dict[str, Any]) -> dict[str, Any]:
    _, _, path, query = split_target(_text(obj.get("RequestPath")))
    duration = obj.get("Duration")
    return {
        "ts": _first(obj, "StartUTC", "time", "StartLocal"),
        "client_ip": client_address(_text(_first(obj, "ClientHost", "ClientAddr"))),
        "method": _text(obj.get("RequestMethod")),
        "host": _text(_first(obj, "RequestHost", "RequestAddr")),
        "path": path,
        "query": query,
        "status": _first(obj, "DownstreamStatus", "OriginStatus"),
        "bytes_sent": obj.get("DownstreamContentSize"),
        "referrer": _text(obj.get("request_Referer")),
        "user_agent": _agent(obj, "request_User-Agent"),
        "content_type": _text(obj.get("downstream_Content-Type")),
        "protocol": _text(obj.get("RequestScheme")),
        "seconds": duration / 1e9 if isinstance(duration, (int, float)) else None,
    }


def _nginx(obj: dict[str, Any]) -> dict[str, Any]:
    method = _text(_first(obj, "request_method", "method"))
    target = _text(_first(obj, "request_uri", "uri", "path", "url"))
    scheme = host = None
    if target is not None:
        scheme, host, path, query = split_target(target)
        if obj.get("args") and query is None:
            query = _text(obj.get("args"))
    else:
        m, scheme, host, path, query = split_request(_text(obj.get("request")))
        method = method or m
    seconds = _first(obj, "request_time", "duration")
    if seconds is None and _first(obj, "generation_time_milli") is not None:
        seconds = float(obj["generation_time_milli"]) / 1000.0
    return {
        "ts": _first(obj, "time_iso8601", "timestamp", "@timestamp", "date", "time", "time_local", "msec"),
        "client_ip": client_address(_text(_first(obj, "remote_addr", "ip", "client_ip", "clientip", "remote_ip"))),
        "method": method,
        "host": _text(_first(obj, "host", "http_host", "server_name", "vhost")) or host,
        "path": path,
        "query": query,
        "status": _first(obj, "status"),
        "bytes_sent": _first(obj, "body_bytes_sent", "bytes_sent", "length", "size"),
        "referrer": _text(_first(obj, "http_referer", "referrer", "referer")),
        "user_agent": _agent(obj, "http_user_agent", "user_agent", "agent"),
        "content_type": _text(_first(obj, "sent_http_content_type", "content_type")),
        "protocol": _text(obj.get("scheme")) or scheme,
        "seconds": seconds,
    }


# -- sniffing -------------------------------------------------------------------------------------------------


def _is_caddy(obj: dict[str, Any]) -> bool:
    req = obj.get("request")
    return str(obj.get("logger", "")).startswith("http.log.access") or (
        isinstance(req, dict) and "uri" in req and "status" in obj
    )


def _is_traefik(obj: dict[str, Any]) -> bool:
    return "RequestMethod" in obj and ("ClientHost" in obj or "ClientAddr" in obj)


def _is_nginx(obj: dict[str, Any]) -> bool:
    client = any(k in obj for k in ("remote_addr", "ip", "client_ip", "clientip", "remote_ip"))
    target = any(k in obj for k in ("request", "request_uri", "uri", "path", "url"))
    return client and target and "status" in obj and not _is_caddy(obj) and not _is_traefik(obj)


def _sniffer(test: Callable[[dict[str, Any]], bool]) -> Callable[[list[str]], bool]:
    def sniff(lines: list[str]) -> bool:
        obj = first_object(lines)
        return obj is not None and test(obj)

    return sniff


# -- parsing --------------------------------------------------------------------------------------------------


def object_batches(reader: LineReader, extract: Callable[[dict[str, Any]], dict[str, Any]]
                   ) -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
    """Batches of (line number, line, ``extract(object)``) for a JSON-lines file; a line that is not a JSON
    object is rejected; blank and ``#`` lines are neither."""
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for number, line in reader.records():  # blank and '#' lines are counted, not yielded
        obj = load_object(line)
        if obj is None:
            reader.reject(number, "not a JSON object", line)
            continue
        rows.append((number, line, extract(obj)))
        if len(rows) >= reader.batch_size:
            yield rows
            rows = []
    if rows:
        yield rows


def _parser(name: str, extract: Extract) -> Callable[[LineReader], Iterator[pa.Table]]:
    def parse(reader: LineReader) -> Iterator[pa.Table]:
        for rows in object_batches(reader, extract):
            yield _table(rows, reader)

    parse.__doc__ = f"Parse a {name} access log."
    return parse


def _table(rows: list[tuple[int, str, dict[str, Any]]], reader: LineReader) -> pa.Table:
    numbers = [r[0] for r in rows]
    lines = [r[1] for r in rows]
    fields = [r[2] for r in rows]

    def col(name: str) -> list[Any]:
        return [f.get(name) for f in fields]

    def strings(name: str) -> list[str | None]:
        return [None if v is None else str(v) for v in col(name)]

    seconds = float_column(pa.array(strings("seconds"), pa.string()))
    data: dict[str, list | pa.Array] = {
        "ts": any_time_column(strings("ts")),
        "client_ip": col("client_ip"),
        "method": col("method"),
        "host": col("host"),
        "path": decode_distinct(col("path")),
        "query": col("query"),
        "status": strings("status"),
        "bytes_sent": strings("bytes_sent"),
        "referrer": [None if v in ("", "-") else v for v in col("referrer")],
        "user_agent": col("user_agent"),
        "content_type": col("content_type"),
        "protocol": [None if v is None else str(v).lower() for v in col("protocol")],
        "time_taken_ms": pc.multiply(seconds, 1000.0),
    }
    return finish(reader, numbers, lines, data, required=("ts", "status"))


NGINX_JSON = SourceFormat("nginx_json", _sniffer(_is_nginx), _parser("nginx_json", _nginx))
CADDY_JSON = SourceFormat("caddy_json", _sniffer(_is_caddy), _parser("caddy_json", _caddy))
TRAEFIK_JSON = SourceFormat("traefik_json", _sniffer(_is_traefik), _parser("traefik_json", _traefik))
