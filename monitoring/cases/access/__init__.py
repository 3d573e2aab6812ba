"""Factory access for monitors: each request or visit to a site, and what came of it.

A refused access is itself a finding: recording one files, in the same transaction, a finding at
the site under the grievance and retaliation standard (GR, whose findings breach a contract's
monitoring clauses by default; the code has no standard of its own for monitoring access) at
major severity, and links it to the access record.
"""
