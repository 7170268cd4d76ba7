"""The benchmark: bare Celery chords against the orchestrated workflow, same shapes, same workers.

``python -m benchmarks --shapes 200x10,1x1000`` (or ``make bench``) starts a PostgreSQL, a
Redis and Celery workers of its own, times both paths shape by shape, prints a JSON document and
a table, and stops everything it started. Modules:

- :mod:`~benchmarks.shapes`: what a shape is and the named sets of shapes;
- :mod:`~benchmarks.worker_app`: the worker app, the production one plus no-op tasks;
- :mod:`~benchmarks.fleet`: the worker processes, and their memory read from ``/proc``;
- :mod:`~benchmarks.fixture`: a sample repository and its catalog for a shape;
- :mod:`~benchmarks.bare`: bare chords; :mod:`~benchmarks.orchestrated`: sessions;
- :mod:`~benchmarks.report`: the JSON document and the table;
- :mod:`~benchmarks.main`: the command line, and :func:`~benchmarks.main.run_bench`.
"""
