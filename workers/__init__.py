"""The deployment's Celery apps, one module per kind: ``celery -A workers.<kind>``.

Thin over the package: each takes the package's app (its start-up checks and logging included:
``ctworkflow/workers/``) and loads ``celeryconfig`` (the repository's top level) over its defaults.
"""
