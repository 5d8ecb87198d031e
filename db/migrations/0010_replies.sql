-- 0010_replies — messages answering a resident (a greeting on follow, a
-- keyword reply, the chatbot), queued by hotline-webhook and sent by
-- hotline-pusher.
--
-- The webhook holds only the channel secret, never the access token
-- (least privilege: the internet-facing daemon cannot send anything to
-- anyone); the pusher, which holds the token, sends replies as it sends
-- deliveries.  A reply uses the event's reply token (free of charge, valid
-- for about a minute); when the token has expired the pusher pushes to the
-- resident instead, with a retry key.

CREATE TABLE line_replies (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	resident_id     bigint NOT NULL REFERENCES residents ON DELETE CASCADE,
	reply_token     text CHECK (length(reply_token) BETWEEN 1 AND 200),
	messages        jsonb NOT NULL,
	source          text NOT NULL CHECK (source IN ('webhook', 'chatbot', 'reservation', 'system')),
	status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
	method          text CHECK (method IN ('reply', 'push')),
	attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	retry_key       uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	line_request_id text,
	error           text,
	created_at      timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	CONSTRAINT line_replies_messages_shape CHECK (CASE
		WHEN jsonb_typeof(messages) <> 'array' THEN false
		ELSE jsonb_array_length(messages) BETWEEN 1 AND 5 END),
	CONSTRAINT line_replies_sent_has_time CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
COMMENT ON TABLE line_replies IS
	'Answers to one resident (greeting, keyword reply, chatbot): queued by the webhook, sent by the pusher with the reply token, or by push when the token expired. Purge with the retention job (personal data).';
COMMENT ON COLUMN line_replies.reply_token IS 'The event''s replyToken; NULL for a message that is pushed (no event to answer).';
COMMENT ON COLUMN line_replies.messages IS 'JSON array of 1-5 LINE message objects, as sent.';
COMMENT ON COLUMN line_replies.status IS 'pending = to send; sending = claimed by a pusher (lease in next_attempt_at); sent; failed (see error).';
COMMENT ON COLUMN line_replies.method IS 'How it went: reply (with the token) or push (the token had expired).';
COMMENT ON COLUMN line_replies.retry_key IS 'X-Line-Retry-Key when pushed (the reply API takes none; a reply token is single-use instead).';
-- The pusher's pickup: status IN ('pending', 'sending') AND next_attempt_at <= now().
CREATE INDEX line_replies_due_idx ON line_replies (next_attempt_at)
	WHERE status IN ('pending', 'sending');
CREATE INDEX line_replies_created_idx ON line_replies (created_at);

-- Wake the pusher (the same channel as deliveries: it looks at both).
CREATE FUNCTION line_replies_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('hotline_delivery', 'reply');
	RETURN NULL;
END
$$;
CREATE TRIGGER line_replies_notify AFTER INSERT ON line_replies
	FOR EACH STATEMENT EXECUTE FUNCTION line_replies_notify();

GRANT SELECT (id, resident_id, status, created_at), INSERT ON line_replies TO hotline_webhook;
GRANT SELECT, UPDATE (status, method, attempts, next_attempt_at, line_request_id, error, sent_at)
	ON line_replies TO hotline_pusher;
GRANT SELECT ON line_replies TO hotline_admin;
