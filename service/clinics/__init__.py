"""Clinics: staff, API tokens, enrollments in follow-up series, follow-up tasks, audit log.

The portal (service/portal/) and the JSON API (service/api/) are two front doors to the same
functions here, so both enforce the same rules: double opt-in, one live enrollment per patient
per clinic, no enrollment of an opted-out number, everything scoped to one clinic.
"""

MAX_ID = 2**31 - 1  # integer primary keys: a larger id in a URL is simply not found (PostgreSQL would overflow)
