"""The web UI (FastAPI + Jinja2, server-rendered Japanese pages) and the JSON API.

``automation.web.app.create_app(engine=None)`` builds the application; ``kyodo serve``
runs it. Routes stay thin: the review logic is in :mod:`automation.review`.
"""
