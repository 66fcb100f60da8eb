"""City-level practices: one package per practice (none shipped yet; see plugins/README.md)."""
