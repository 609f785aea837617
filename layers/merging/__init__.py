"""Merged datasets (issue 11): one city-wide layer built in PostGIS from member datasets and a mapping to one
target schema, every feature carrying its provenance, rebuilt when a member changes (docs/merging.md)."""
