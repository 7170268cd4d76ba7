"""An in-memory kit for the workflow: database, git remote, clock, agent, runner, dispatcher.

As procrastinate's in-memory connector and dramatiq's stub broker: the workflow's steps run on
it unchanged, with no server, so their decisions are unit tests of milliseconds. It imports
nothing of ``tests/``.

- :class:`~ctworkflow.testing.store.InMemoryDatabase`: the ``Transactions`` port;
- :class:`~ctworkflow.testing.git.FakeGit`: the ``GitRemote`` port;
- :class:`~ctworkflow.testing.clock.FakeClock`: the ``Clock`` port;
- :class:`~ctworkflow.testing.doubles.ScriptedAgent` and
  :class:`~ctworkflow.testing.doubles.VerdictRunner`: an agent and a test runner;
- :class:`~ctworkflow.testing.harness.Harness`: all of it on one project, with a worker that
  delivers the messages the workflow sends.
"""
