"""The benchmark: bare Celery chords against the orchestrated workflow, same shapes, same workers.

``python -m ctworkflow.bench --shapes 200x10,1x1000`` (or ``make bench``) starts a PostgreSQL, a
Redis and Celery workers of its own, times both paths shape by shape, prints a JSON document and
a table, and stops everything it started. Modules:

- :mod:`~ctworkflow.bench.shapes`: what a shape is and the named sets of shapes;
- :mod:`~ctworkflow.bench.worker_app`: the worker app, the production one plus no-op tasks;
- :mod:`~ctworkflow.bench.fleet`: the worker processes, and their memory read from ``/proc``;
- :mod:`~ctworkflow.bench.fixture`: a sample repository and its catalog for a shape;
- :mod:`~ctworkflow.bench.bare`: bare chords; :mod:`~ctworkflow.bench.orchestrated`: sessions;
- :mod:`~ctworkflow.bench.report`: the JSON document and the table;
- :mod:`~ctworkflow.bench.main`: the command line, and :func:`~ctworkflow.bench.main.run_bench`.
"""
