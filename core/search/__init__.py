"""Search across topics, proposals and social-opinion reports, for Chinese text on SQLite and PostgreSQL."""
