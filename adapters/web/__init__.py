"""The web pages (网页): routes by area, sessions, charts, templates and static files."""
