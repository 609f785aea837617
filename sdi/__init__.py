"""The Cần Thơ SDI Django project: settings, URL map and the bridge to pygeoapi."""
