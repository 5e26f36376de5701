-- Rows for every table the demo leaves empty, written as Storekeep's
-- SQLite holds them (booleans 0 and 1, timestamps as the text Go's
-- time.Time.String writes), with the values where the two databases
-- differ: nanoseconds, another time zone, NULL booleans, bytes with NUL,
-- integers beyond 2^53, text with tabs, quotes, backslashes and emoji.
-- Parents the demo made have small IDs (staff 1-4, customers 1-2, orders,
-- licenses, order lines and invoices 1-2, tickets 1-3, messages 1-6,
-- release 1 and its artifact 1, notices 1-2, fraud cases 1-2); new rows
-- here start at 100. TestFixturesFillEveryTable fails when a table has no
-- row after the demo and this file.

INSERT INTO acme_cache (key, data, updated_at) VALUES ('acme_account+key', X'00FF10200A0D', '2026-11-30 10:11:12.123456789 +0000 UTC');
INSERT INTO analytics_engaged (id, day, at, view, ms) VALUES (100, '2026-11-30', '2026-11-30 10:11:12.5 +0000 UTC', 'v-1', 9007199254740993);
INSERT INTO analytics_monthly (dim, month, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views) VALUES ('path', '2026-11', '/products/quillguard', 10, 5, 4, 3, 2, 12345, 6);
INSERT INTO analytics_salt_peers (day, peer, generation, public_key, sealed, sealed_by, seen_at) VALUES ('2026-11-30', 'peer-a', 2, X'0102030400', NULL, X'', '2026-11-30 10:11:12 +0000 UTC');
INSERT INTO analytics_views (id, day, at, view, visitor, path, referrer_host, utm_source, utm_medium, utm_campaign, browser, device, screen, country) VALUES (100, '2026-11-30', '2026-11-30 10:11:12.000001 +0000 UTC', 'v-1', -42, '/products/quillguard?x=1', 'example.org', 'news', 'mail', 'winter', 'Firefox 140', 'desktop', 'l', 'DE');
INSERT INTO breaches (id, title, what_happened, occurred_at, discovered_at, categories, subjects_affected, records_affected, consequences, measures, authority, authority_reason, authority_notified_at, authority_reference, subjects_notice, subjects_reason, notice_subject, notice_body, notice_audience, notice_sent_at, notice_sent_by, closed_at, version, recorded_by, created_at, updated_at)
    VALUES (100, 'Lost laptop', 'A laptop with an export was left on a train.', NULL, '2026-11-29 08:00:00 +0100 CET', 'user.contact.email', 3, 3, 'low', 'disk encrypted', 'not_required', 'encrypted', NULL, '', 'undecided', '', '', '', '', NULL, NULL, NULL, 2, 1, '2026-11-29 08:05:00 +0000 UTC', '2026-11-29 09:00:00 +0000 UTC');
INSERT INTO breach_subjects (id, breach_id, email, customer_id, state, skip_reason, outbox_id, created_at, notified_at) VALUES (100, 100, 'zoë@example.org', 1, 'pending', '', NULL, '2026-11-29 08:06:00 +0000 UTC', NULL);
INSERT INTO breach_versions (id, breach_id, version, snapshot, changed_by, changed_at, note) VALUES (100, 100, 1, '{"title":"Lost laptop","note":"tab\there, quote \" and backslash \\"}', 2, '2026-11-29 08:05:00 +0000 UTC', 'first');
INSERT INTO cookie_consents (id, consent_id, given_at, policy_seq, action, preferences, statistics, marketing) VALUES (100, 'c-100', '2026-11-30 10:11:12 +0000 UTC', 1, 'choose', 1, 0, NULL);
INSERT INTO customer_sessions (id, token_hash, customer_id, created_at, last_seen_at, expires_at, revoked_at) VALUES (100, 'th-cs-100', 1, '2026-11-30 10:00:00 +0000 UTC', '2026-11-30 10:30:00 +0000 UTC', '2026-12-30 10:00:00 +0000 UTC', NULL);
INSERT INTO customer_tokens (id, token_hash, purpose, email, customer_id, new_email, expires_at, used_at, created_at) VALUES (100, 'th-ct-100', 'email_change', 'a@example.org', 2, 'b@example.org', '2026-12-01 10:00:00 +0000 UTC', NULL, '2026-11-30 10:00:00 +0000 UTC');
INSERT INTO disclosures (id, authority, authority_ref, legal_basis, requested_at, asked, decision, disclosed, disclosed_at, decided_by, customer_id, subject_email, withheld, withheld_reason, created_by, created_at, updated_at)
    VALUES (100, 'Police', 'AZ-1', 'court order', '2026-11-01 09:00:00 +0000 UTC', 'invoices of a customer', 'disclosed', 'two invoices', '2026-11-02 09:00:00 +0000 UTC', 1, 1, 'a@example.org', 1, 'secrecy order', 1, '2026-11-01 09:00:00 +0000 UTC', '2026-11-02 09:00:00 +0000 UTC');
INSERT INTO erasure_ledger (id, erased_at, kind, subject_hash, email_hash, key_id) VALUES (100, '2026-11-30 10:00:00.000000001 +0000 UTC', 'customer', 'a3f1c9e0b27d4e5f', '', 'k-1');
INSERT INTO download_requests (id, release_id, email, token_hash, created_at, expires_at, confirmed_at, access_until) VALUES (100, 1, 'trial@example.org', 'th-dr-100', '2026-11-30 10:00:00 +0000 UTC', '2026-12-01 10:00:00 +0000 UTC', '2026-11-30 10:05:00 +0000 UTC', '2026-12-07 10:05:00 +0000 UTC');
INSERT INTO downloads (id, artifact_id, license_id, customer_id, via, network, first_byte, at, request_id) VALUES (100, 1, 1, 1, 'account', '192.0.2.10', 0, '2026-11-30 10:06:00 +0000 UTC', NULL), (101, 1, NULL, NULL, 'email', '2001:db8::/48', 1024, '2026-11-30 10:07:00 +0000 UTC', 100);
INSERT INTO fraud_decisions (id, case_id, action, order_id, license_id, reason, staff_id, form_token, objection_seen, notice_outbox_id, notice_note, created_at, reversed_at, reversed_by, reverse_reason) VALUES (100, 1, 'suspend_license', 1, 1, 'shared key', 1, 'ft-100', 1, NULL, '', '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 12:00:00 +0000 UTC', 2, 'explained');
INSERT INTO fraud_holds (id, decision_id, scope, license_id, customer_id, created_at, lifted_at) VALUES (100, 100, 'access', 1, 1, '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 12:00:00 +0000 UTC');
INSERT INTO fraud_messages (id, case_id, direction, body, staff_id, outbox_id, created_at) VALUES (100, 1, 'question', 'Could you tell us why?', 1, NULL, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO fraud_observations (id, kind, network, machine, customer_id, license_id, order_id, observed_at) VALUES (100, 'activation', 'nh', 'mh', 1, 1, 1, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO invoice_corrections (id, number, year, seq, invoice_id, issued_at, reason, billing_name, billing_company, billing_address, billing_country, billing_vat_id, seller) VALUES (100, 'C-2026-0100', 2026, 100, 1, '2026-11-30 11:00:00 +0000 UTC', 'address', 'Zoë Example', '', 'Line 1
Line 2', 'DE', '', '');
INSERT INTO license_machines (id, license_id, fingerprint, hostname, platform, version, activated_at, last_check_in_at, last_seen_at) VALUES (100, 1, 'fp-1', 'mx1.example.org', 'linux/amd64', '1.2.3', '2026-11-30 11:00:00 +0000 UTC', NULL, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO mail_suppressions (id, addr_hash, reason, detail, outbox_id, customer_id, created_at) VALUES (100, 'ah-100', 'hard_bounce', '550 5.1.1', NULL, NULL, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO notice_recipients (id, notice_id, customer_id, subscriber_id, email, state, skip_reason, outbox_id, dispatched_at, created_at) VALUES (100, 1, 1, NULL, 'a@example.org', 'queued', '', NULL, '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO policy_mailings (id, document, seq, status, started_by, started_at, finished_at, recipients) VALUES (100, 'privacy', 100, 'sent', 1, '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 11:01:00 +0000 UTC', 1);
INSERT INTO policy_mail_recipients (id, mailing_id, customer_id, email, state, skip_reason, outbox_id, dispatched_at, created_at) VALUES (100, 100, 1, 'a@example.org', 'skipped', 'unsubscribed', NULL, NULL, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO policy_texts (document, body, updated_by, updated_at) VALUES ('privacy', '# Privacy

We keep *little*.', 1, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO policy_versions (id, document, seq, content_hash, published_at, significant, change_note, content_html, content_text) VALUES (100, 'privacy', 100, 'h-100', '2026-11-30 11:00:00 +0000 UTC', 1, 'new processor', '<p>We keep <em>little</em>.</p>', NULL);
INSERT INTO policy_views (customer_id, document, seq, seen_at) VALUES (1, 'privacy', 100, '2026-11-30 11:05:00 +0000 UTC');
INSERT INTO privacy_requests (id, kind, email, customer_id, channel, state, received_at, due_at, extended_due_at, extension_reason, code_hash, code_expires_at, code_attempts, code_used_at, verified_at, doubt_reason, refusal_reason, note, outcome, created_at, updated_at, completed_at)
    VALUES (100, 'access', 'a@example.org', 1, 'email', 'completed', '2026-11-01 09:00:00 +0000 UTC', '2026-12-01 09:00:00 +0000 UTC', NULL, '', NULL, NULL, 0, NULL, '2026-11-01 09:30:00 +0000 UTC', '', '', '', '3 tables', '2026-11-01 09:00:00 +0000 UTC', '2026-11-02 09:00:00 +0000 UTC', '2026-11-02 09:00:00 +0000 UTC');
INSERT INTO privacy_reviews (id, reviewed_by, reviewed_at, notes, summary) VALUES (100, 1, '2026-11-30 11:00:00 +0000 UTC', 'all fine', '{}');
INSERT INTO rate_limits (bucket, window_start, hits) VALUES ('signin:192.0.2.1', '2026-11-30 11:00:00 +0000 UTC', 3), ('signin:192.0.2.1', '2026-11-30 11:00:00.5 +0000 UTC', 1);
INSERT INTO recipients (id, declared_id, name, kind, purpose, data_categories, location, outside_eea, safeguard, safeguard_note, agreement_ref, agreement_date, review_date, ended_at, created_at, updated_at, updated_by)
    VALUES (100, NULL, 'Example Backup AS', 'processor', 'backups', 'user.contact.email', 'Oslo, Norway', 1, 'adequacy', '', 'DPA-7', '2026-01-01 00:00:00 +0000 UTC', NULL, NULL, '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 11:00:00 +0000 UTC', 1);
INSERT INTO invoices (id, number, year, seq, kind, order_id, issued_at, currency, total_minor) VALUES (100, 'CN-2026-0100', 2026, 1100, 'credit_note', 1, '2026-11-30 11:00:00 +0000 UTC', 'EUR', -1000);
INSERT INTO refunds (id, order_id, credit_note_id, state, currency, net_minor, tax_minor, gross_minor, provider, provider_ref, reason, cause, created_at) VALUES (100, 1, 100, 'done', 'EUR', 840, 160, 1000, 'demo', '', 'goodwill', 'staff:1', '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO refund_lines (id, refund_id, order_line_id, quantity, net_minor, tax_minor, gross_minor) VALUES (100, 100, 1, 1, 840, 160, 1000);
INSERT INTO request_events (id, request_id, at, from_state, to_state, actor, note) VALUES (100, 100, '2026-11-01 09:00:00 +0000 UTC', '', 'received', 'requester', '');
INSERT INTO request_log (id, at, route, status, browser, browser_version, device, referrer_host, network) VALUES (100, '2026-11-30 11:00:00.999999999 +0000 UTC', 'GET /', 200, 'Firefox', '140', 'desktop', '', '192.0.2.0/24');
INSERT INTO staff_recovery_codes (id, staff_id, code_hash, used_at, created_at) VALUES (100, 1, 'rc-100', NULL, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO staff_sessions (id, token_hash, staff_id, level, created_at, last_seen_at, expires_at, revoked_at) VALUES (100, 'th-ss-100', 1, 'full', '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 11:00:00 +0000 UTC', '2026-11-30 23:00:00 +0000 UTC', NULL);
INSERT INTO staff_tokens (id, token_hash, staff_id, purpose, expires_at, used_at, created_at) VALUES (100, 'th-st-100', 2, 'reset', '2026-12-01 11:00:00 +0000 UTC', NULL, '2026-11-30 11:00:00 +0000 UTC');
INSERT INTO subject_choices (id, customer_id, choice, purpose, active, changed_at, note) VALUES (100, 1, 'objection', 'marketing', 1, '2026-11-30 11:00:00 +0000 UTC', ''), (101, 2, 'consent', 'newsletter', 0, '2026-11-30 11:00:00 +0000 UTC', '');
INSERT INTO support_attachments (id, message_id, filename, content_type, size, sha256, data) VALUES (100, 1, 'dump.bin', 'application/octet-stream', 4, 'x', X'00000001');
INSERT INTO support_pending (id, token_hash, email, name, subject, body, created_at, expires_at, ticket_id) VALUES (100, 'th-sp-100', 'a@example.org', 'Zoë 🚀', 'Hello', 'Body', '2026-11-30 11:00:00 +0000 UTC', '2026-12-01 11:00:00 +0000 UTC', 3);
INSERT INTO unsubscribes (id, processed_at, customer_id, subscriber_id, purpose, list_id, notice_recipient_id, via) VALUES (100, '2026-11-30 11:00:00 +0000 UTC', 1, NULL, 'newsletter', 1, 100, 'one-click');

-- The references the copy cannot satisfy by the order of tables: a ticket
-- merged into a later one (a table referring to itself) and an order line
-- renewing a license whose own order line comes later (the cycle between
-- licenses and order_lines).
UPDATE support_tickets SET merged_into = 3 WHERE id = 1;
INSERT INTO order_lines (id, order_id, price_id, description, billing, unit_minor, quantity, renews_license_id, period_start, period_end, net_minor, tax_minor, tax_rate_bp)
    VALUES (100, 1, NULL, 'Renewal', 'yearly', 4900, 1, 2, '2026-12-01 00:00:00 +0000 UTC', '2027-12-01 00:00:00 +0000 UTC', 4118, 782, 1900);
UPDATE licenses SET order_line_id = 100 WHERE id = 2;
