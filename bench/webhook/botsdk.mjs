// bench/webhook/botsdk.mjs PORT DATABASE — the baseline: the same job as
// hotline-webhook's request path, written as LINE's official Node SDK
// shows a bot: @line/bot-sdk's middleware verifies X-Line-Signature on the
// raw body and parses the JSON; the handler stores every event durably in
// PostgreSQL (node-postgres, a pool of 32 connections, the same
// webhook_events table, redeliveries skipped by webhookEventId) and then
// answers 200.  The channel secret comes from $LINE_CHANNEL_SECRET; the
// server from libpq's PGHOST/PGPORT/PGUSER.
import http from "node:http";
import { middleware } from "@line/bot-sdk";
import pg from "pg";

const mw = middleware({ channelSecret: process.env.LINE_CHANNEL_SECRET });
const pool = new pg.Pool({ database: process.argv[3], max: 32 });
let stored = 0;

async function store(events) {
	if (events.length === 0) return;
	const values = [];
	const rows = events.map((e, i) => {
		values.push(e.webhookEventId, e.type, e.source?.userId ?? null,
			new Date(e.timestamp), e.deliveryContext?.isRedelivery === true, JSON.stringify(e));
		const k = i * 6;
		return `($${k + 1}, $${k + 2}, $${k + 3}, $${k + 4}, $${k + 5}, $${k + 6}::jsonb)`;
	});
	const r = await pool.query(
		"INSERT INTO webhook_events (webhook_event_id, type, line_user_id, event_time, is_redelivery, body)" +
		` VALUES ${rows.join(", ")} ON CONFLICT (webhook_event_id) DO NOTHING`, values);
	stored += r.rowCount;
}

const server = http.createServer((req, res) => {
	if (req.method !== "POST" || req.url !== "/webhook") {
		res.writeHead(404).end();
		return;
	}
	mw(req, res, (err) => {
		if (err) {
			res.writeHead(err.name === "SignatureValidationFailed" ? 401 : 400).end(err.message);
			return;
		}
		store(req.body.events).then(
			() => res.writeHead(200, { "Content-Type": "application/json" }).end("{}"),
			() => res.writeHead(503).end(),
		);
	});
});
server.keepAliveTimeout = 65000;
server.listen(Number(process.argv[2]), "127.0.0.1");
process.on("SIGTERM", () => {
	console.error(`stored ${stored}`);
	server.close(() => pool.end().then(() => process.exit(0)));
	server.closeAllConnections();
});
