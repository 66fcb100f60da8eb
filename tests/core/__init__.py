"""Tests of the core infrastructure: configuration, database, audit, plugins, the web and API plumbing."""
