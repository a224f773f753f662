"""AUREN's reliability suite: faults, hostile input and load against a real server.

`python -m reliability [--quick]` prints one table; `tests/reliability` is the CI subset
and reuses the functions here.
"""
