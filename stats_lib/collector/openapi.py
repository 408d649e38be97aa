"""The collector's OpenAPI 3.0 document (``GET /openapi.json``), written for the configured sites."""

from __future__ import annotations

import re

from . import validation as v

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
}


def _url_pattern(sites: frozenset[str]) -> str:
    hosts = "|".join(re.escape(site) for site in sorted(sites)) or "invalid\\.invalid"
    return f"^https?://(www\\.)?({hosts})(:[1-9][0-9]{{0,3}})?(/[!-~]*)?$"


def event_schema(sites: frozenset[str]) -> dict:
    text = {"type": "string", "maxLength": v.MAX_PROP_VALUE}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "url"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": v.MAX_NAME,
                     "description": "'pageview' or a custom event name"},
            "url": {"type": "string", "maxLength": v.MAX_URL, "pattern": _url_pattern(sites),
                    "description": "the page's URL, on a site this collector accepts"},
            "referrer": {"type": "string", "nullable": True, "maxLength": v.MAX_URL},
            "props": {
                "type": "object", "nullable": True, "maxProperties": v.MAX_PROPS,
                "additionalProperties": {"nullable": True, "anyOf": [text, {"type": "number"}, {"type": "boolean"}]},
                "description": f"flat values only; keys of 1 to {v.MAX_PROP_KEY} characters",
            },
            "ip": {"type": "string", "description": "signed requests only (X-Signature): the client IP of a backfill"},
            "timestamp": {"type": "string", "description": "signed requests only: ISO 8601 time of a backfill"},
            "user_agent": {"type": "string", "maxLength": v.MAX_USER_AGENT, "description": "signed requests only"},
        },
    }


def _event_operation(sites: frozenset[str], max_body: int, summary: str) -> dict:
    errors = {
        "400": "malformed JSON or a field that is missing, too long or not allowed (the answer names it)",
        "403": "a site or Origin this collector does not accept, or a bad signature",
        "413": f"body over {max_body} bytes",
        "415": "a content type other than application/json or text/plain",
        "429": "too many events from this network (see Retry-After)",
        "503": "events cannot be stored right now",
    }
    error_body = {"application/json": {"schema": _ERROR}}
    responses = {
        "202": {"description": "accepted (bots are accepted too, and dropped)",
                "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "status": {"type": "string", "enum": ["accepted"]}}}}}},
    }
    for status, text in errors.items():
        responses[status] = {"description": text, "content": error_body}
    responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return {
        "summary": summary,
        "parameters": [{"name": "X-Signature", "in": "header", "required": False, "schema": {"type": "string"},
                        "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body>: allows ip/timestamp/user_agent"}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Event"}},
                "text/plain": {"schema": {"type": "string", "maxLength": max_body},
                               "description": "the same JSON, as navigator.sendBeacon sends it"},
            },
        },
        "responses": responses,
    }


def document(sites: frozenset[str], max_body: int) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "site-stats event collector", "version": "1"},
        "paths": {
            "/api/event": {"post": _event_operation(sites, max_body, "record an event")},
            "/event": {"post": _event_operation(sites, max_body, "record an event (the original name)")},
            "/js/script.js": {"get": {"summary": "the tracker", "responses": {"200": {
                "description": "JavaScript", "content": {"application/javascript": {"schema": {"type": "string"}}}}}}},
            "/health": {"get": {"summary": "200 when events can be accepted", "responses": {
                "200": {"description": "healthy", "content": {"application/json": {"schema": {"type": "object"}}}},
                "503": {"description": "not accepting", "content": {"application/json": {"schema": {"type": "object"}}}},
            }}},
        },
        "components": {"schemas": {"Event": event_schema(sites), "Error": _ERROR}},
    }
