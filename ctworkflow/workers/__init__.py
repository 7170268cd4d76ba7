"""Celery worker entry points, one module per kind: ``celery -A ctworkflow.workers.<kind>``."""
