"""MBC Guide: a multilingual SMS and voice line about metastatic breast cancer treatment.

`create_app()` builds everything; nothing is built at import time.
"""

from __future__ import annotations

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    from . import cli, db, health, logs, security, sessions
    from .channels import sms
    from .clinics.texts import series_check_texts
    from .clock import now
    from .config import load_settings
    from .content.catalog import load_catalog
    from .content.lexicon import load_lexicon
    from .content.render import SmsRenderer
    from .conversation import Line, RecentNumbers
    from .engine.menu import MenuTree
    from .reviews import ReviewState
    from .trials.compose import check_texts as trials_check_texts
    from .trials.line import TrialsLine

    settings = load_settings(test_config)
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.as_flask())
    if test_config:
        app.config.update(test_config)
    app.config["DATABASE_URL"] = settings.DATABASE_URL  # as config.database_url normalized it
    logs.configure(app)
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops > 0:
        # request.remote_addr (the sign-in throttle, logs) and request.scheme from the last `hops`
        # X-Forwarded-For/-Proto entries, which those proxies wrote; anything a client put before
        # them is ignored. Twilio signatures do not depend on it: they use PUBLIC_BASE_URL.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    sessions.init_app(app)  # signed-cookie sessions without a serializer built per request

    catalog = load_catalog(tuple(app.config["ENABLED_LOCALES"]))
    renderer = SmsRenderer(catalog, app.config["ENABLED_LOCALES"], app.config["PROGRAM_CONTACT"],
                           more_texts=(trials_check_texts, series_check_texts))
    # What reviewers approved (service/reviews.py); the database engine is made below.
    renderer.reviews = ReviewState(catalog, renderer.enabled_locales, app.config["UNREVIEWED_LOCALES"],
                                   engine=lambda: app.extensions.get("db_engine"),
                                   refresh_seconds=app.config["REVIEWS_REFRESH_SECONDS"])
    lexicon = load_lexicon(renderer.enabled_locales)
    app.extensions["line"] = Line(
        tree=MenuTree.from_content(catalog.content),
        renderer=renderer,
        lexicon=lexicon,
        expiry=app.config["SESSION_EXPIRY"],
        flood_limit=app.config["FLOOD_LIMIT"],
        flood_window=app.config["FLOOD_WINDOW"],
        trials=TrialsLine(catalog, lexicon, app.config["TRIALS_RADIUS_MILES"]),
        recent=RecentNumbers(),
        reviews=renderer.reviews,
    )
    app.extensions["clock"] = now

    db.init_app(app)
    # Approvals made elsewhere are read before a request opens its transaction (service/reviews.py).
    app.before_request(renderer.reviews.refresh_if_due)
    from . import spool  # texts that arrive while the database is down (service/spool.py)

    spool.init_app(app)
    security.init_app(app)
    app.register_blueprint(sms.bp)
    from .channels import status  # POST /twilio/status: delivery of the texts the worker sends

    app.register_blueprint(status.bp)
    from .channels import voice  # the voice line: /twilio/voice...
    from . import simulator  # the browser phone at /simulator (SIMULATOR_ENABLED)

    voice.init_app(app)
    simulator.init_app(app)
    app.register_blueprint(health.bp)
    from . import metrics  # GET /metrics (Prometheus text format; METRICS_TOKEN)

    metrics.init_app(app)
    from . import api, portal  # clinics: portal at /portal, JSON API at /api/v1

    portal.init_app(app)
    api.init_app(app)
    from . import pages  # the development start page at /, the styled 404

    pages.init_app(app)
    cli.init_app(app)
    return app
