"""The registry of published datasets: models, loading, provider and admin."""
