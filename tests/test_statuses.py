"""Every stored status is defined once, in service/statuses.py (issue 14 item 5): the database's
check constraints, the OpenAPI document, the API's validation and the portal's labels all say the
same, and no list of statuses is spelled out again anywhere in the service."""

from __future__ import annotations

import ast
import pathlib
import re

import sqlalchemy as sa

from service.api.openapi import document
from service.api.views import STATUSES as API_STATUSES
from service.models import Enrollment, FollowUpTask, OutboundMessage, Subscriber
from service.portal.clinic import TASK_STATUSES
from service.portal.enrollments import MESSAGE_STATUSES, STATUSES as PORTAL_LABELS
from service.statuses import (LIVE_ENROLLMENTS, PENDING_MESSAGES, EnrollmentStatus, MessageStatus,
                              SubscriberStatus, SyncStatus, TaskStatus)

ROOT = pathlib.Path(__file__).resolve().parents[1]
VOCABULARIES = {"enrollment": EnrollmentStatus, "message": MessageStatus, "subscriber": SubscriberStatus,
                "sync": SyncStatus, "task": TaskStatus}
# Words that are an enrollment's status and nothing else's: spelled out, they are one.
ENROLLMENT_ONLY = {s.value for s in EnrollmentStatus} - {s.value for s in (*MessageStatus, *SubscriberStatus)}
# Twilio's own message statuses, mapped to ours (a vocabulary of its own).
OTHER_VOCABULARIES = {("service/messaging/delivery.py", "FROM_TWILIO")}


def _service_files():
    for path in sorted((ROOT / "service").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel != "service/statuses.py":
            yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _strings(nodes) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _assigned_name(tree, node) -> str | None:
    for parent in ast.walk(tree):
        if isinstance(parent, ast.Assign) and parent.value is node:
            return next((t.id for t in parent.targets if isinstance(t, ast.Name)), None)
    return None


def test_no_list_of_statuses_is_spelled_out_twice():
    """A tuple, list, set or dict of two or more statuses of one kind: say it in statuses.py."""
    found = []
    for rel, tree in _service_files():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                words = _strings(node.elts)
            elif isinstance(node, ast.Dict):
                words = _strings(node.keys)
            else:
                continue
            for kind, vocabulary in VOCABULARIES.items():
                if sum(w in vocabulary._value2member_map_ for w in words) >= 2 and \
                        (rel, _assigned_name(tree, node)) not in OTHER_VOCABULARIES:
                    found.append(f"{rel}:{node.lineno} {kind} statuses {words}")
    assert not found, found


def test_no_enrollment_status_is_spelled_out():
    found = [f"{rel}:{node.lineno} {node.value!r}" for rel, tree in _service_files() for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and node.value in ENROLLMENT_ONLY]
    templates = sorted((ROOT / "service").rglob("*.html"))
    found += [f"{path.relative_to(ROOT)}: {word!r}" for path in templates for word in ENROLLMENT_ONLY
              if re.search(rf"[\"']{word}[\"']", path.read_text(encoding="utf-8"))]
    assert not found, found


def test_the_scan_finds_what_it_looks_for():
    """The two scans above can fail: each catches its own kind of copy."""
    tree = ast.parse('LIVE = ("awaiting_yes", "active")\nDONE = {"queued": 1, "sent": 2}\n')
    lists = [_strings(n.elts if not isinstance(n, ast.Dict) else n.keys) for n in ast.walk(tree)
             if isinstance(n, (ast.Tuple, ast.Dict))]
    assert lists == [["awaiting_yes", "active"], ["queued", "sent"]]
    assert "awaiting_yes" in ENROLLMENT_ONLY and "active" not in ENROLLMENT_ONLY


def _check_words(table: sa.Table) -> list[str]:
    [check] = [c for c in table.constraints if isinstance(c, sa.CheckConstraint) and str(c.name).endswith("status")]
    return re.findall(r"'([a-z_]+)'", str(check.sqltext))


def test_the_models_check_constraints_are_the_definition():
    assert _check_words(Enrollment.__table__) == list(EnrollmentStatus)
    assert _check_words(Subscriber.__table__) == list(SubscriberStatus)
    assert _check_words(FollowUpTask.__table__) == list(TaskStatus)
    [live] = [i for i in Enrollment.__table__.indexes if i.name == "uq_enrollments_live"]
    assert re.findall(r"'([a-z_]+)'", str(live.dialect_options["postgresql"]["where"])) == list(LIVE_ENROLLMENTS)
    [claim] = [i for i in OutboundMessage.__table__.indexes if i.name == "ix_outbound_messages_claim"]
    assert re.findall(r"'([a-z_]+)'", str(claim.dialect_options["sqlite"]["where"])) == list(PENDING_MESSAGES)


def test_the_migrated_database_checks_the_same_statuses(app):
    """The constraint the migrations created (SQLite's table SQL, PostgreSQL's catalog) names
    exactly the defined statuses: a status added to statuses.py needs a migration."""
    engine = app.extensions["db_engine"]
    with engine.connect() as conn:
        for table, statuses in (("enrollments", EnrollmentStatus), ("subscribers", SubscriberStatus),
                                ("follow_up_tasks", TaskStatus)):
            if engine.dialect.name == "postgresql":
                sql = conn.scalar(sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                          "WHERE conname = :name"), {"name": f"ck_{table}_status"})
            else:
                sql = conn.scalar(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                                  {"t": table})
                sql = re.search(r"CONSTRAINT ck_\w+_status CHECK \(([^)]*)\)", sql).group(1)
            assert re.findall(r"'([a-z_]+)'", sql) == list(statuses), (table, sql)


def test_openapi_api_and_portal_use_the_definition(app):
    with app.app_context():
        spec = document(app)
    schemas = spec["components"]["schemas"]
    assert schemas["Enrollment"]["properties"]["status"]["enum"] == list(EnrollmentStatus)
    assert schemas["Message"]["properties"]["status"]["enum"] == list(MessageStatus)
    [status_param] = [p for p in spec["paths"]["/api/v1/enrollments"]["get"]["parameters"] if p["name"] == "status"]
    assert status_param["schema"]["enum"] == list(EnrollmentStatus)
    assert list(API_STATUSES) == list(EnrollmentStatus)
    assert list(PORTAL_LABELS) == list(EnrollmentStatus)
    # A clinic never sees "held" (clinics.scope.visible_status): every other status has its label.
    assert list(MESSAGE_STATUSES) == [s for s in MessageStatus if s != MessageStatus.HELD]
    assert list(TASK_STATUSES) == list(TaskStatus)
