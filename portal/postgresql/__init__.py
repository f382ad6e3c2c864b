"""The PostgreSQL backend the portal runs on: Django's own, with its health check paid at
most once a second per connection (``base.py``)."""
