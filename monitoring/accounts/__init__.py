"""Accounts: organisations, users, login, sessions and API tokens."""
