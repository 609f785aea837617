"""Summaries benchmark (issue 11): land-use area of the 1,000,000 synthetic parcels by the 9 districts and by the
103 wards of 2025 — summarise()'s first call against the bare intersection SQL, and cached calls over HTTP."""
