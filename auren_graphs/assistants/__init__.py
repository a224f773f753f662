"""Assistants kept as files (`assistants/*.json`), owned by the server: validated, synced,
listed, compared and switched here, and nowhere else.

- `models`: the file (a pydantic model) and what the ops routes answer;
- `schema`: a file checked with `jsonschema` against the file model's schema with the
  graph's own context schema in place of `context`;
- `platform`: the server's assistants API, called in-process;
- `service`: sync, history, diff and the switch (also used by the rollout graph).
"""
