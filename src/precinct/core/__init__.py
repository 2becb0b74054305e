"""Shared infrastructure: database, warehouse, event bus, identity, access control and audit.

``core`` imports no domain package.
"""
