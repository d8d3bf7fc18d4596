"""Checking the log from outside (核验): `ledger verify`, witness checks, the monitor and the group ledger."""
