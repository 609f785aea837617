"""Sign-in protection and start-up checks: login limits (django-axes), the client address behind nginx, a cap on
concurrent password checks, and the refusal of a public signing key. See docs/security.md."""
