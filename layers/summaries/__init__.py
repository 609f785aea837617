"""Figures per administrative unit for any dataset (issue 11): count, length, area, apportioned sums and weighted
means, optionally by category, computed in PostGIS and cached per dataset version.

`compute.summarise(SummaryRequest, user)` is the one entry; the OGC API process (`process`), the REST/CSV
endpoint (`views`) and the dataset pages all call it.
"""
