"""Third-party social audits beside worker testimony, through an editable crosswalk.

The crosswalk (:class:`models.CrosswalkEntry`) links sections of the RBA Code of Conduct 8.0, our
standards and the worker issue checklist; coordinators edit it. Audit results come in as CSV
(``docs/audits.md``). A site's "audits and worker voice" view puts, per standard, the audit
findings, the monitors' findings and the number of worker reports linked to those findings side
by side, and flags a standard an audit passed while findings name it in the same year. The view
is computed from the table when read, so a crosswalk edit re-maps it at once.
"""
