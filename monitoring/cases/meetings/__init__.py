"""Contract follow-up meetings: a buyer and its supplier meet, and agree actions with due dates.

The "one-to-one meetings" with which buyers such as Oslo follow up their contracts, kept as
records that the contract's buyer, its supplier and coordinators see (nobody else: 404). The
buyer and coordinators record them; participants, notes and actions are protected.
"""
