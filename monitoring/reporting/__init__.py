"""Reporting for the people who pay: effectiveness figures, the remedy ledger and dashboards."""
