"""MBC Guide: a multilingual SMS and voice line about metastatic breast cancer treatment.

`create_app()` builds everything; nothing is built at import time.
"""

from __future__ import annotations

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    from . import cli, db, health, logs, security
    from .channels import sms
    from .clock import now
    from .config import load_settings
    from .content.catalog import load_catalog
    from .content.lexicon import load_lexicon
    from .content.render import SmsRenderer
    from .conversation import Line
    from .engine.menu import MenuTree

    settings = load_settings(test_config)
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.as_flask())
    if test_config:
        app.config.update(test_config)
    logs.configure(app)

    catalog = load_catalog(tuple(app.config["ENABLED_LOCALES"]))
    renderer = SmsRenderer(catalog, app.config["ENABLED_LOCALES"], app.config["PROGRAM_CONTACT"])
    app.extensions["line"] = Line(
        tree=MenuTree.from_content(catalog.content),
        renderer=renderer,
        lexicon=load_lexicon(renderer.enabled_locales),
        expiry=app.config["SESSION_EXPIRY"],
        flood_limit=app.config["FLOOD_LIMIT"],
        flood_window=app.config["FLOOD_WINDOW"],
    )
    app.extensions["clock"] = now

    db.init_app(app)
    security.init_app(app)
    app.register_blueprint(sms.bp)
    app.register_blueprint(health.bp)
    cli.init_app(app)
    return app
