"""Device webhooks and pushes: verified, recorded durably, then processed in the background.

- `whoop`, `oura`: vendor notifications (signed; they carry ids, the object is fetched)
- `push`: Apple Health (Health Auto Export) and manual pushes (a per-user ingest token)
- `runtime`: what routes and worker share; the record-then-acknowledge answer
- `events`: the Postgres table every accepted notification is recorded in, and claims
- `worker`: the loops that claim due events and process them, with retries
- `processing`, `ingest`: fetch a batch's objects once, ingest them in one run
- `vendors`: the vendor API client (timeouts, retries, circuit breaker)
- `common`: refusals, bounded bodies, timestamps, user lookups
"""
