"""Enrichment: turn RAW_SCHEMA rows into StoredEvent rows (see ``pipeline.enrich``)."""
