"""AUREN's own records, in Postgres beside the LangGraph store: device connections (their
tokens encrypted), the keys the server derives ids with, webhook events.

They live in SQL tables rather than the store because they need what only a database
gives: a vendor account bound to one user under concurrency (a unique index), row locks
for token refreshes, and queries by vendor account. The database is AUREN_POSTGRES_URI,
else the platform's own Postgres (DATABASE_URI, the docker deploy), else the embedded
one (`make dev`, `make dev-memory`).
"""
