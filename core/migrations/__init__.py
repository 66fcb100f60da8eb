"""Alembic migrations of the node database, shipped in the package; applied by ``shangliang db upgrade``."""
