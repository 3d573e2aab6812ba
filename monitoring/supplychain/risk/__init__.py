"""A site's risk view: what a buyer asks for when it wants disclosure "by value and risk".

The registry holds the tiers a site holds in each chain (:func:`monitoring.supplychain.queries.reach`)
and the country risk table that coordinators keep (:class:`~monitoring.supplychain.models.CountryRisk`).
Findings, cases and worker reports belong to features above the registry: they register *sources*
here (:mod:`.services`), as the case status does, and the view shows what they return.
"""
