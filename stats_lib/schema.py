"""The two Arrow schemas of site-stats, named in one place.

``RAW_SCHEMA`` is what every source parser yields: one row per log line or collector event, still holding the
full client IP. It never leaves memory. ``STORED_SCHEMA`` is a StoredEvent: what the warehouse writes to Parquet
after enrichment; it holds no raw IP (only ``ip_prefix``). The ``dt`` partition (``YYYY-MM-DD``, UTC) is part of
the file's path, not of its columns.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("ms")

RAW_SCHEMA = pa.schema(
    [
        pa.field("ts", TS),  # UTC, naive
        pa.field("client_ip", pa.string()),  # full address; in memory only, never stored
        pa.field("method", pa.string()),
        pa.field("host", pa.string()),  # raw host (x-host-header, Host, vhost); normalised into `site`
        pa.field("path", pa.string()),  # percent-decoded path, without query
        pa.field("query", pa.string()),  # raw query string without '?'
        pa.field("status", pa.int16()),  # 0 for CloudFront's 000
        pa.field("bytes_sent", pa.int64()),
        pa.field("referrer", pa.string()),
        pa.field("user_agent", pa.string()),  # '' = recorded empty (a bot); null = the format has no such field
        pa.field("content_type", pa.string()),
        pa.field("protocol", pa.string()),  # http / https
        pa.field("operation", pa.string()),  # S3 operation (REST.GET.OBJECT, ...), else null
        pa.field("edge_location", pa.string()),  # CloudFront POP code (FRA56-P7)
        pa.field("edge_result_type", pa.string()),  # Hit, Miss, Error, ...
        pa.field("time_taken_ms", pa.float64()),
        pa.field("country_hint", pa.string()),  # country code carried by the log itself (CloudFront v2 c-country)
        pa.field("event_name", pa.string()),  # collector events: 'pageview' or a custom name
        pa.field("props", pa.string()),  # collector events: JSON object
        pa.field("line_number", pa.int64()),  # 1-based line in the source file
    ]
)

STORED_SCHEMA = pa.schema(
    [
        pa.field("ts", TS),
        pa.field("site", pa.string()),
        pa.field("source", pa.string()),  # the log format (cloudfront, s3, alb, combined, ...) or 'collector'
        pa.field("source_file", pa.string()),
        pa.field("line_number", pa.int64()),
        pa.field("method", pa.string()),
        pa.field("path", pa.string()),
        pa.field("query", pa.string()),
        pa.field("status", pa.int16()),
        pa.field("bytes_sent", pa.int64()),
        pa.field("referrer", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("content_type", pa.string()),
        pa.field("protocol", pa.string()),
        pa.field("operation", pa.string()),
        pa.field("edge_location", pa.string()),
        pa.field("edge_result_type", pa.string()),
        pa.field("time_taken_ms", pa.float64()),
        pa.field("event_name", pa.string()),
        pa.field("props", pa.string()),
        # classification
        pa.field("is_bot", pa.bool_()),
        pa.field("bot_name", pa.string()),
        pa.field("is_pageview", pa.bool_()),
        # privacy
        pa.field("visitor_id", pa.int64()),  # keyed hash of (daily salt, site, ip, user agent)
        pa.field("ip_prefix", pa.string()),  # IPv4 /24, IPv6 /48
        # user agent
        pa.field("browser", pa.string()),
        pa.field("browser_version", pa.string()),
        pa.field("os", pa.string()),
        pa.field("os_version", pa.string()),
        pa.field("device", pa.string()),  # desktop, mobile, tablet, bot, other
        # geolocation (from the full IP before truncation)
        pa.field("country_code", pa.string()),
        pa.field("country", pa.string()),
        pa.field("region", pa.string()),
        pa.field("city", pa.string()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("edge_city", pa.string()),
        pa.field("edge_latitude", pa.float64()),
        pa.field("edge_longitude", pa.float64()),
        # acquisition
        pa.field("referrer_host", pa.string()),
        pa.field("referrer_source", pa.string()),
        pa.field("referrer_channel", pa.string()),  # search, social, email, ai, direct, internal, other
        pa.field("utm_source", pa.string()),
        pa.field("utm_medium", pa.string()),
        pa.field("utm_campaign", pa.string()),
        pa.field("utm_term", pa.string()),
        pa.field("utm_content", pa.string()),
        pa.field("click_id", pa.string()),  # gclid, fbclid, msclkid (which one was present), else null
    ]
)

REJECT_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string()),
        pa.field("line_number", pa.int64()),
        pa.field("kind", pa.string()),  # 'rejected' (malformed) or 'skipped' (well formed, not a request)
        pa.field("reason", pa.string()),
        pa.field("line", pa.string()),  # capped and with every IP masked
    ]
)

