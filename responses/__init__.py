"""The approved-response library: channel limits, placeholders, ranking for an incident, the library file.

Storage keeps the entries (storage/response_store.py, migration 012); this package holds what needs no SQL:
`limits` (how long a message is on each channel), `fill` ({agency}, {link}, {date}, {place}), `rank` (which
approved responses fit an incident), `library` (the YAML file loaded at start) and `model` (the records).
"""
