"""The dataset registry and its front doors: the services every door calls (services, registration,
selectors), the admin forms, the REST API (api/), the default catalogue and the home page.

The Django models, admin registration, migrations and commands stay at the top of the `layers` app, where
Django looks for them."""
