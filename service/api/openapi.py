"""The OpenAPI 3 document for /api/v1. A test checks it against the app's routes both ways, and
schemathesis calls every operation and checks the answers against these schemas."""

from __future__ import annotations

from flask import Flask

from ..clinics.series import load_series
from ..statuses import EnrollmentStatus, MessageStatus

STATUSES = [status.value for status in EnrollmentStatus]
MESSAGE_STATUSES = [status.value for status in MessageStatus]


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _enrollment_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Enrollment"}}}}


ID_PARAM = {"name": "enrollment_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}


def document(app: Flask) -> dict:
    locales = list(app.extensions["line"].renderer.enabled_locales)
    categories = list(load_series().categories)
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MBC Guide clinic API",
            "version": "1.0.0",
            "description": (
                "Enroll patients in a follow-up text series about their treatment. Enrolling sends one "
                "text asking the patient to reply YES (double opt-in); nothing else is sent until they do. "
                "An unconfirmed enrollment expires after 7 days. Numbers that texted STOP cannot be "
                "enrolled until the patient texts START. Every call sees only the token's own clinic."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {"operationId": "getOpenApi", "summary": "This document", "security": [],
                        "responses": {"200": {"description": "OpenAPI document",
                                              "content": {"application/json": {"schema": {"type": "object"}}}}}},
            },
            "/api/v1/enrollments": {
                "post": {
                    "operationId": "createEnrollment",
                    "summary": "Enroll a patient (sends the YES confirmation text)",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/NewEnrollment"}}}},
                    "responses": {
                        "201": _enrollment_response("Created, awaiting YES"),
                        "400": _error("The body is not a JSON object"),
                        "401": _error("Missing or unknown token"),
                        "409": _error("Already enrolled (`duplicate`, with `enrollment_id`) or the number opted out (`opted_out`)"),
                        "422": _error("Invalid field: `invalid_phone`, `unknown_locale`, `unknown_category`, "
                                      "`unknown_timezone`, `bad_start_date`, `consent_required`, `missing_field`, `invalid_field`"),
                    },
                },
                "get": {
                    "operationId": "listEnrollments",
                    "summary": "List enrollments, newest first",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": STATUSES}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                        {"name": "before_id", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                         "description": "Page on: the `next_before_id` of the previous page"},
                    ],
                    "responses": {
                        "200": {"description": "A page of enrollments", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["items", "next_before_id"],
                            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Enrollment"}},
                                           "next_before_id": {"type": ["integer", "null"]}}}}}},
                        "401": _error("Missing or unknown token"),
                        "422": _error("Invalid query parameter"),
                    },
                },
            },
            "/api/v1/enrollments/{enrollment_id}": {
                "get": {
                    "operationId": "getEnrollment",
                    "summary": "One enrollment with every text queued or sent for it",
                    "parameters": [ID_PARAM],
                    "responses": {"200": _enrollment_response("The enrollment"),
                                  "401": _error("Missing or unknown token"),
                                  "404": _error("No such enrollment in this clinic"),
                                  "422": _error("Unknown query parameter")},
                },
            },
            "/api/v1/enrollments/{enrollment_id}/stop": {
                "post": {
                    "operationId": "stopEnrollment",
                    "summary": "Stop an enrollment and cancel its waiting texts (idempotent)",
                    "parameters": [ID_PARAM],
                    "responses": {"200": _enrollment_response("The stopped (or already ended) enrollment"),
                                  "401": _error("Missing or unknown token"),
                                  "404": _error("No such enrollment in this clinic"),
                                  "422": _error("Unknown query parameter")},
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Created with `flask --app service tokens create --clinic NAME`"}},
            "schemas": {
                "NewEnrollment": {
                    "type": "object",
                    "required": ["phone", "locale", "categories", "patient_consented"],
                    "properties": {
                        "phone": {"type": "string", "description": "Mobile number, E.164 or national", "example": "+14155550123"},
                        "locale": {"type": "string", "enum": locales},
                        "categories": {"type": "array", "minItems": 1, "uniqueItems": True,
                                       "items": {"type": "string", "enum": categories}},
                        "start_date": {"type": "string", "format": "date", "description": "Treatment start; default today"},
                        "timezone": {"type": "string", "description": "IANA zone; default from the number"},
                        "patient_consented": {"type": "boolean", "description": "Must be true: the patient agreed to get texts"},
                    },
                },
                "Message": {
                    "type": "object",
                    "required": ["step", "topic", "locale", "status", "due_at", "sent_at", "error_code"],
                    "properties": {
                        "step": {"type": "string"}, "topic": {"type": ["string", "null"]}, "locale": {"type": "string"},
                        "status": {"type": "string", "enum": MESSAGE_STATUSES},
                        "due_at": {"type": "string", "format": "date-time"}, "sent_at": nullable_time,
                        "error_code": {"type": ["string", "null"]},
                    },
                },
                "Enrollment": {
                    "type": "object",
                    "required": ["id", "phone", "locale", "categories", "timezone", "start_date", "status", "source",
                                 "created_at", "expires_at", "confirmed_at", "ended_at", "ended_reason"],
                    "properties": {
                        "id": {"type": "integer"}, "phone": {"type": "string"}, "locale": {"type": "string"},
                        "categories": {"type": "array", "items": {"type": "string"}},
                        "timezone": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
                        "status": {"type": "string", "enum": STATUSES},
                        "source": {"type": "string", "enum": ["portal", "csv", "api"]},
                        "created_at": {"type": "string", "format": "date-time"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "confirmed_at": nullable_time, "ended_at": nullable_time,
                        "ended_reason": {"type": ["string", "null"]},
                        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    },
                },
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"},
                    }}},
                },
            },
        },
    }
