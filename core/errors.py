"""The root of CivicRadar's own exceptions: every error the project raises on purpose derives from `CivicRadarError`.

Each area keeps its own root beneath it, and a boundary (a scheduled run, a CLI command, the storage service, a
dashboard page) catches `CivicRadarError` and shows its message; anything else is a bug and is logged with its
traceback. A message says what happened and what to do about it.

    CivicRadarError
    ├── SettingsError       core.settings_base: settings.toml or a secret is wrong (fix the file or the variable)
    ├── StorageError        storage.db: the database cannot be used (locked by another process, disk full, ...)
    ├── LakeError           storage.lake: the DuckLake catalog or its extensions cannot be reached or loaded
    ├── QueryError          storage.named: a named query's name or parameters are wrong (also a ValueError)
    ├── SqlRejected         storage.sandbox: analysts' SQL that is not one read-only statement (also a ValueError)
    ├── ServiceError        storage.client: the storage service refused or failed a request
    │   └── ServiceUnreachable, OutcomeUnknown
    ├── CollectorError      collectors.base: a source failed
    │   └── RateLimited, AuthFailed, SourceUnavailable, BadPayload, ...
    ├── ClassifierError     classifiers.errors: models missing or unusable
    ├── DeliveryError       alerts.notify: a webhook or e-mail could not be delivered
    ├── DetectorError       alerts.registry: a detector module does not declare the contract
    ├── LibraryError        responses.library: the response library file is invalid (also a ValueError)
    ├── PostingError        responses.posting: a reply or post could not be published
    ├── AuthError           dashboard.auth: a sign-in or users-file problem
    └── PortBusy            supervise: a port the engine or dashboard needs is taken

Nothing in `core` imports a project package, so every package may import this module.
"""

from __future__ import annotations

__all__ = ["CivicRadarError"]


class CivicRadarError(Exception):
    """Something CivicRadar detected and explains: the message says what happened and what to do."""
