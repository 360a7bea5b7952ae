"""The security suite (issue 7 part 3): each requirement, and the test that covers it.

1. Twilio signatures on every /twilio/* route (discovered from app.url_map): wrong token, other
   host or path, replay to another route, stripped/empty/garbage header, changed, added or
   removed parameter, query string changed, JSON body, http behind an https proxy (the
   PUBLIC_BASE_URL signature validates, the http one does not): all 403 and no row changed;
   valid requests are never 403. -> test_signatures.py
   (earlier per-route checks: tests/channels/test_sms_bad_input.py, tests/calls/test_voice_calls.py,
   tests/trials/test_voice.py)
2. Portal and API authorisation, routes from url_map -> test_access.py: anonymous portal
   requests go to the login page, API requests without a valid token get 401 JSON (seven bad
   Authorization headers, revoked token, token in the query string); clinic admin vs staff on
   every page; CSRF on every state-changing portal POST (missing, empty, garbage, another
   session's, from before sign-in: 400 and no change, with a control run); session fixation
   (cookie replaced at sign-in, a planted pre-login cookie stays signed out, cleared at sign-out);
   sign-in throttling per email+address, per account and per address, right password refused
   while locked; production cookies Secure, HttpOnly, SameSite.
   Cross-clinic ids and tokens on every route -> tests/clinics/test_clinic_scoping.py (its
   test_every_route_is_covered fails for a new /portal or /api/v1 route); sign-in basics ->
   tests/portal/test_portal.py.
3. API fuzzed by schemathesis from /api/v1/openapi.json, derandomized, no example database,
   25 examples per operation, explicit checks (no 5xx, status, content type, headers and
   response schema as documented, invalid input refused) -> tests/api/test_openapi.py
4. Webhook parameters fuzzed by hypothesis, derandomized and bounded: /twilio/sms ->
   tests/channels/test_sms_fuzz.py; every /twilio/voice* step (trials steps included, with
   arbitrary query strings), a whole call pressing or saying anything, /twilio/status (arbitrary
   o/a) -> test_webhook_fuzz.py (no 500; 200 is TwiML with known verbs whose actions and redirects
   are our routes).
5. Inbound floods and auto-responder loops -> test_floods.py (100 texts: at most FLOOD_LIMIT
   replies plus the first text's disclaimer; STOP confirmed once mid-flood, then silence; another
   number unaffected; identical texts answered at most twice; auto-replies get no reply, people's
   questions do) and tests/channels/test_sms_webhook.py (basic flood).
6. Outbound cap per number per local day (OUTBOUND_DAILY_CAP_PER_NUMBER) -> test_outbound_caps.py
   (deferred to the next local day's window, never dropped or doubled; per number; in-flight
   attempts of other workers count, and two workers at once on PostgreSQL stay within it;
   rejected attempts do not count; replies never capped; 0 = off).
7. No unmasked phone number or message body in the logs, at DEBUG, JSON and text formats, over
   SMS, STOP, a red flag, a call with "press 9", an enrollment, the worker sending and
   reconciling -> test_log_masking.py; the scrubbing rules -> tests/test_logs.py.
8. Security headers on portal and API pages, redirects and errors (CSP with frame-ancestors,
   nosniff, X-Frame-Options, Referrer-Policy, no-store), on webhooks and /healthz; HSTS in
   production only -> test_headers.py.

Issue 17's attack review (figures also in docs/operations.md, "Attack review"):

9. Clinic figures only from confirmed enrollments' active periods: enroll-and-stop probe of
   another clinic's patient shows 0 topics and 0 opt-outs; one number shared by two clinics
   shows each only its own periods (3 and 2 of 5 topics) -> tests/clinics/test_tenant_isolation.py
10. A YES confirms exactly the enrollment whose confirmation was last received; others are held
   and go out after, each needing its own YES; every order of events (sent/queued/cancelled,
   stop, expiry, undelivered, Twilio Advanced Opt-Out, both sent); red flags and check-in answers
   reach only the confirmed clinic -> tests/clinics/test_tenant_isolation.py
11. Pre-auth limits on every /twilio/* route: 9 malformed signature headers and bodies over
   64 KB read 0 bytes, parse 0 forms and compute 0 HMACs; 201 fields parse 0 forms; a chunked
   body stops at 64 KB; a signed text: 1 parse, 1 HMAC -> test_preauth_limits.py (behaviour, not
   time; `make bench` row: bench/preauth.py)
12. Credentials lifecycle: tokens list/revoke, staff list/deactivate/activate (sessions end), the
   clinic-admin portal pages (token shown once; another clinic's ids 404; staff 403) ->
   tests/clinics/test_credentials.py, tests/clinics/test_clinic_scoping.py
13. Production fails closed, one line per refusal (METRICS_TOKEN, SIMULATOR_ENABLED,
   PROGRAM_CONTACT, web process production by default, exit 3 under gunicorn); postgres:// and
   postgresql:// use psycopg 3; unknown schemes and commands before `db upgrade` are one line ->
   test_fail_closed.py
14. No 500 for bad authenticated input: CSV extra fields and > 128 KB fields, JSON 100,000 deep,
   control characters in next=, then hypothesis over each -> test_bad_input.py
15. Passwords scored by zxcvbn (>= 3) and capped at 200 in the CLI too; sessions end 12 h after
   sign-in however busy -> test_passwords_and_sessions.py
"""
