"""Detectors, notifiers (webhooks, email), the daily digest: windowed aggregates become explained alerts.

Modules: `model` (Finding, Evidence), `windows` (the step grid and seasonal baselines), `detectors/` (one module per
detector, each declaring its kinds, settings and windows), `registry` (finds and checks them), `context` (what a
detector gets: a read-only store, the steps, its settings), `detect` (one pass), `fastpath`, `incidents`, `notify`
(outbox and senders), `payloads` (Slack / Teams / email bodies), `digest`, and `engine` (the scheduled jobs).
Storage is reached only through its typed stores (`storage.alert_stores`), never a connection. Kept import-free
here: the registry imports the detectors when first asked.
"""
