"""The ledger's domain: aggregates, events, rules and the one application service.

No database driver and no web framework is imported here; the store is chosen by the
environment (see ``adapters/bootstrap.py``).
"""
