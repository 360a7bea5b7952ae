"""The styled error page, in the portal's look and language (also used outside the portal by
service/pages.py for browsers that reach a missing page)."""

from __future__ import annotations

from flask import render_template

from .i18n import current_locale, gettext


def html_error_page(code: int):
    return render_template("portal/error.html", code=code, _=gettext, locale=current_locale()), code
