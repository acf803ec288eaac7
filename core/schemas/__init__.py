"""Pydantic models shared by every door: events, config, param documents, errors."""
