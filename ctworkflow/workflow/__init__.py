"""Use cases of the workflow: each step as plain Python over a unit of work and effects.

Celery tasks (``ctworkflow.tasks``) are thin doorways into these functions.
"""
