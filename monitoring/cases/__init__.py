"""Remediation: findings, cases, corrective actions and the dialogue around them."""
