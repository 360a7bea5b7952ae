"""The program manager's dashboard: funnel, delivery, opt-outs, topics by language."""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from .. import db
from ..clinics import scope
from ..clinics.lifecycle import sweep
from ..clinics.stats import dashboard as clinic_dashboard
from ..models import FollowUpTask
from ..statuses import EnrollmentStatus, TaskStatus
from .blueprint import bp, clinic_id, now
from .charts import bar_chart
from .enrollments import _category_label, _language_name, _message_status_label
from .i18n import N_, _
from .tasks import _red_flag_class_label, tasks_query

RED_FLAG_ORDER = ["emergency", "crisis", "urgent"]

# The funnel's stages (clinics.stats.dashboard): two are enrollment statuses.
STAGES = {"enrolled": N_("All enrollments"), "confirmed": N_("Confirmed (YES)"), EnrollmentStatus.COMPLETED: N_("Completed"),
          "opted_out": N_("Opted out"), EnrollmentStatus.EXPIRED: N_("Expired, no YES")}
PERIODS = (30, 90)


@bp.get("/dashboard")
@login_required
def dashboard():
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else PERIODS[0]
    with db.transaction() as sess:
        sweep(sess, now(), clinic_id())
        data = clinic_dashboard(sess, clinic_id(), now(), days)
        urgent = sess.execute(tasks_query(TaskStatus.OPEN).where(FollowUpTask.urgent.is_(True))
                              .order_by(FollowUpTask.id.desc()).limit(20)).all()
        open_tasks = scope.open_task_count(sess, clinic_id())
    charts = {
        "funnel": bar_chart([(_(STAGES[s]), n) for s, n in data.funnel], _("Enrollment funnel")),
        "messages": bar_chart([(_message_status_label(s), n) for s, n in sorted(data.messages.items())],
                              _("Texts by delivery status"), "#2f855a"),
        "errors": bar_chart(data.errors, _("Top error codes"), "#c53030"),
        "opt_outs": bar_chart(data.opt_outs, _("Opt-outs by week"), "#975a16"),
        "topics": {_language_name(loc): bar_chart([(_category_label(t), n) for t, n in rows],
                                                  _("Topics asked about"), "#6b46c1")
                   for loc, rows in data.topics.items()},
        "red_flags": [(_red_flag_class_label(kind), {_language_name(loc): n for loc, n in sorted(by.items())})
                      for kind, by in sorted(data.red_flags.items(), key=lambda kb: RED_FLAG_ORDER.index(kb[0]))],
        # Under each language's chart: how many of those came by text and how many on calls.
        "topic_channels": {_language_name(loc): (by.get("sms", 0), by.get("voice", 0))
                           for loc, by in data.channels.items()},
    }
    return render_template("portal/dashboard.html", data=data, charts=charts, periods=PERIODS, urgent=urgent,
                           open_tasks=open_tasks)
