"""How long `manage.py sample_data` (what `make run` adds for the synthetic samples) takes, against ogr2ogr."""
