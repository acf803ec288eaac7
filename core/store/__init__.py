"""Storage: SQLAlchemy tables, repositories and the database lifecycle."""
