"""Sealed worker testimony: intake, anonymous reports, survey imports and evidence files."""
