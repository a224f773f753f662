"""Device connections with a lifecycle: connect through the vendor's OAuth, keep tokens
fresh, fetch history (backfill), disconnect, and leave no trace when a user leaves.

- `vendors`: what AUREN knows of each vendor API (OAuth endpoints, scopes, profile,
  the collections a backfill pages through), from settings;
- `api`: GETs against a vendor API (timeouts, retries honouring Retry-After, a breaker);
- `oauth`: the authorization code flow (Authlib), refresh and revocation;
- `pending`: single-use, short-lived connect states;
- `tokens`: a usable access token for a connection, refreshed once per connection
  across workers (a row lock), `needs_reauth` when the vendor refuses;
- `backfill`: the pages of history a backfill walks, collection by collection.
"""
