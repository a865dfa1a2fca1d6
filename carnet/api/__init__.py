"""The patient JSON API for mobile apps (django-ninja, OpenAPI at /api/openapi.json)."""
