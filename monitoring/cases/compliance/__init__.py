"""Clause compliance: which contract clauses a finding breaches, and each clause's status per year.

A finding breaches the *default* clauses until a coordinator or the case's monitor chooses its
clauses (see :func:`services.default_clause_ids`). A clause's status for a calendar year is
derived from the findings that breach it (:func:`services.derived_status`) unless the buyer of
the contract or a coordinator set one by hand, with a reason; the latest manual status wins.
"""
