"""The human pages built on the registry and the summaries (issue 11): a dataset's own page, with its summary
chart and table, and the leaders' page (/lanh-dao) that gathers the key figures declared in config/leaders.yml.

`language` picks vi/en for a request, `texts` holds every label in both, `numbers` formats figures as a reader of
that language writes them, `summary_table` turns a `layers.summaries.compute.summarise()` answer into the table and
the chart's data, `panel_form` reads the summary form, `leaders` reads the panels (and `checks` has `manage.py
check` read them), `views` are the two pages.
"""
