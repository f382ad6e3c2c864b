"""Real Confide processes on private databases, for the tests and the benchmark.

It runs the project only as a user would, as subprocesses (``confide migrate``,
``confide serve``, ...), and imports none of its packages, so the benchmark can use it
without importing the tests. ``make_account`` and ``add_passkey`` are the modules that run
inside a stack's process (``python -m harness.make_account``), to make accounts as an
operator would and to give them the passkey a person would add.
"""
