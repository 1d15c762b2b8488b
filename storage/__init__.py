"""Storage: the only package that speaks SQL (schema, writes, named queries, the HTTP service and its client)."""
