"""The circular life of devices: per contract, product and calendar year, what became of them.

The contract's supplier files a *circularity report* for each product of the contract and each
calendar year (one period a year: buyers report on their contracts yearly, and their ambitions are
yearly): lifespan commitments, devices delivered, repaired, replaced, accessories not bought,
second-life devices, and devices taken back with their fate, at which registry sites. The buyer
(or a coordinator) confirms it or queries it with a reason; a queried report is corrected and
resubmitted by the supplier. A confirmed report is final. The buyer's dashboard shows the
feedback loop per product from these reports (:func:`services.buyer_loop`).
"""
