"""Detectors, notifiers (webhooks, email), the daily digest: windowed aggregates become explained alerts.

Modules: `model` (Finding, Evidence), `windows` (the step grid and seasonal baselines), one module per detector
(`volume`, `claims`, `coordination`, `narratives`), `detect` (one pass), `notify` (outbox and senders),
`payloads` (Slack / Teams / email bodies), `digest`, and `engine` (the scheduled jobs). Kept import-free here:
storage imports `alerts.model`, and the rest import storage.
"""
