"""Follow-up tasks (urgent first) with close, and the clinic's audit log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import db
from ..clinics import scope
from ..clinics.enroll import audit
from ..models import AuditLog, FollowUpTask
from ..statuses import TaskStatus
from .blueprint import bp, clinic_id, now
from .forms import ActionForm
from .i18n import N_, _

KINDS = {"side_effects": N_("Side effects bother the patient"), "call_me": N_("Patient asks for a call"),
         "red_flag": N_("Red-flag text")}


RED_FLAG_CLASSES = {"emergency": N_("Emergency: told to call 911"), "crisis": N_("Crisis: told to call 988"),
                    "urgent": N_("Urgent: told to call the care team now")}


@bp.app_template_filter("red_flag_class_label")
def _red_flag_class_label(kind: str | None) -> str:
    return _(RED_FLAG_CLASSES.get(kind or "urgent", kind or ""))


@bp.app_template_filter("task_kind_label")
def _task_kind_label(kind: str) -> str:
    return _(KINDS.get(kind, kind))


def tasks_query(status: str):
    """(task, phone, patient label) of the signed-in clinic's tasks with this status."""
    return scope.tasks(clinic_id(), status)


@bp.get("/tasks")
@login_required
def tasks():
    with db.transaction() as sess:
        open_ = sess.execute(tasks_query(TaskStatus.OPEN).order_by(FollowUpTask.urgent.desc(), FollowUpTask.id)).all()
        closed = sess.execute(tasks_query(TaskStatus.CLOSED).order_by(FollowUpTask.closed_at.desc()).limit(50)).all()
    return render_template("portal/tasks.html", open_tasks=open_, closed_tasks=closed, form=ActionForm())


@bp.post("/tasks/<int:task_id>/close")
@login_required
def close_task(task_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    with db.transaction() as sess:
        task = scope.own_task(sess, clinic_id(), task_id)
        if task is None:
            abort(404)
        if task.status == TaskStatus.OPEN:
            task.status, task.closed_at, task.closed_by = TaskStatus.CLOSED, now(), current_user.email
            audit(sess, task.clinic_id, current_user.actor, "close_task", now(), task.enrollment_id,
                  f"task {task.id} ({task.kind})")
    return redirect(url_for("portal.tasks"))


@bp.get("/audit")
@login_required
def audit_log():
    if not current_user.is_admin:
        abort(403)
    with db.transaction() as sess:
        rows = sess.scalars(sa.select(AuditLog).where(AuditLog.clinic_id == clinic_id())
                            .order_by(AuditLog.id.desc()).limit(300)).all()
    return render_template("portal/audit.html", rows=rows)
