"""Accounts, practices and practice roles."""
