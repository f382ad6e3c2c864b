"""The browser client: templates and static files served by Django."""
