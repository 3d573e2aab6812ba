"""Notifications: an outbox filled in the same transaction as the change it tells of."""
