"""The coopledger application: the only layer that knows eventsourcing and the database.

Import from the modules: `ledger.queries` reads without loading eventsourcing, and
`ledger.application` writes through it.
"""
