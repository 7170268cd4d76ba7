"""The benchmark: bare Celery chords against the orchestrated workflow, same shapes, same workers.

``python -m tests.benchmarks --shapes 200x10,1x1000`` (or ``make bench``) starts a PostgreSQL, a
Redis and Celery workers of its own, times both paths shape by shape, prints a JSON document and
a table, and stops everything it started. Modules:

- :mod:`~tests.benchmarks.shapes`: what a shape is and the named sets of shapes;
- :mod:`~tests.benchmarks.worker_app`: the worker app, the production one plus no-op tasks;
- :mod:`~tests.benchmarks.fleet`: the worker processes, and their memory read from ``/proc``;
- :mod:`~tests.benchmarks.fixture`: a sample repository and its catalog for a shape;
- :mod:`~tests.benchmarks.bare`: bare chords; :mod:`~tests.benchmarks.orchestrated`: sessions;
- :mod:`~tests.benchmarks.report`: the JSON document and the table;
- :mod:`~tests.benchmarks.main`: the command line, and :func:`~tests.benchmarks.main.run_bench`.
"""
