"""Resilience suite (issue 7, part 2): what happens when things break, scenario by scenario.

Each scenario lists the tests that cover it. Existing tests elsewhere are referenced, not
repeated; the tests in this folder fill the gaps. Run on SQLite and PostgreSQL:

    .venv/bin/python -m pytest tests/resilience -q
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres .venv/bin/python -m pytest tests/resilience -q

a) The database stops and restarts during traffic
   test_database_outage.py. On PostgreSQL a TCP proxy (tests/support/tcp_proxy.py) between the
   app and the server cuts every connection and refuses new ones, then accepts again. SQLite has
   no server to stop, so there another connection holds the write lock past the app's busy
   timeout (0.25 s in the test URL), so every statement fails the same way.
   - test_webhooks_apologise_while_down_and_redeliveries_are_handled_once (both databases):
     signed SMS and voice webhooks answer 200 with apology TwiML, status callbacks 204, /healthz
     503. Afterwards the same app object answers normally, and Twilio's redeliveries (same
     MessageSid) are processed once: InboundMessage rows, subscribers and consent events are
     neither lost nor doubled.
   - test_worker_survives_the_outage_and_sends_each_text_once (both): the database goes away
     just after a REST call reached Twilio. The worker's loop survives and backs off. The chunk
     whose outcome was lost is looked up at Twilio, not re-sent. Every text goes out exactly once.
   - test_connections_cut_in_the_middle_of_traffic (PostgreSQL only): four numbers text without
     pause through the outage. Once the database is back, no number gets another apology.
     Redelivering every apologised message leaves each sid stored once.
   - test_first_requests_after_a_restart_while_idle_are_answered (PostgreSQL only): every pooled
     connection is dead after a quiet restart. service/db.py sees each closed socket at checkout
     and replaces it; this test fails without that check.
   - test_server_ended_connections_are_replaced_and_healthy_ones_kept (PostgreSQL only): the
     server ends the pooled connections itself (pg_terminate_backend); the next texts are
     answered on new ones, and a pool in steady use opens no connection per request.
   - test_a_connection_with_something_unread_is_replaced_alone (PostgreSQL only): a healthy
     connection with a byte waiting (a NOTIFY) is replaced by itself; the rest of the pool stays.
   - tests/test_cli_and_health.py::test_healthz_down_is_503: an unreachable server from the start.
   - tests/test_metrics.py::test_database_down_still_answers_with_the_process_counters.

b) The worker is killed with SIGKILL mid-batch
   tests/messaging/test_worker_crash.py::test_sigkill_mid_batch_then_the_rest_is_sent_exactly_once already
   starts a real `flask worker` process and sends it SIGKILL while its chunk is in flight (the fake
   Twilio answers 0.2 s late). A second process sends the rest, and every text reaches Twilio
   exactly once: the in-flight ones are found at Twilio, not re-sent. In process, the same file's
   test_died_after_twilio_accepted_is_reconciled_not_resent and
   test_died_before_the_call_is_sent_after_the_lease cover both sides of the REST call.
   No gap.

c) Twilio REST answers 429 or 500, is slow (times out) or drops the connection
   tests/messaging/test_worker_errors.py covers each failure against the fake (tests/fake_twilio/server.py
   already scripts error, slow and drop, with the drop before or after Twilio accepted):
   test_429_is_retried_with_exponential_backoff_then_sent, test_429_until_max_attempts_fails,
   test_in_doubt_and_not_at_twilio_is_looked_up_then_sent_again[500|503|dropped-before-accepting],
   test_in_doubt_but_at_twilio_is_found_and_not_sent_again[timeout|dropped-after-accepting],
   test_a_lookup_that_fails_defers_instead_of_sending_blind,
   test_connection_refused_is_retried_without_lookup.
   Gap filled: test_twilio_storm.py::test_a_storm_of_failures_loses_and_doubles_nothing puts all
   of them in one batch to several numbers. Each text reaches Twilio once, none is dropped, and
   every retry waits for its backoff.

d) Duplicate and out-of-order status callbacks never move a message backwards
   tests/channels/test_status_callback.py: test_late_twice_or_out_of_order_never_goes_backwards,
   test_undelivered_records_the_error_code_and_is_final,
   test_callback_settles_a_text_whose_response_was_never_recorded.
   Gaps filled in test_delivery_order.py:
   - a callback that arrives before the worker records Twilio's 201, delivered or undelivered
     (not re-sent afterwards);
   - all 24 orders of queued/sending/sent/delivered, each callback twice;
   - the first final status wins, whatever follows.

e) The same inbound message delivered twice
   tests/channels/test_sms_webhook.py: test_repeated_delivery_changes_nothing_and_gets_the_same_reply
   and test_repeated_stop_delivery_records_one_opt_out.
   tests/channels/test_sms_concurrency.py::test_same_message_delivered_concurrently_is_handled_once.
   tests/calls/test_voice_calls.py::test_press_9_queues_the_sms_wording_once_and_records_consent.
   tests/trials/test_sms.py::test_a_repeated_delivery_gets_the_same_answer.
   After a failure: (a) above.
   Gaps filled in test_redelivery.py: a late redelivery after the conversation moved on; a late
   STOP after START; a redelivered clinic YES that must not queue the series twice.

f) The clock crosses a daylight-saving change during the sending window
   tests/messaging/test_worker_window.py: test_daylight_saving_ends_overnight and
   test_daylight_saving_starts_overnight check the computed due times for Los Angeles.
   Gap filled: test_dst_walk.py::test_walk_through_the_night[spring-forward-2026-03-08|fall-back-2026-11-01]
   walks America/New_York through both nights, with the worker running every 10 minutes. Texts
   are queued in the evening, in the skipped and repeated hours, and in the morning. Each is sent
   exactly once, never outside 09:00-20:00 local time, and at once or at 09:00 local.

g) Operations (issue 7, part 4): tests/test_metrics.py covers GET /metrics (Prometheus text
   format, values that move, METRICS_TOKEN) and the `webhook_fallback` log line.
   docs/operations.md says what to alert on.
"""
