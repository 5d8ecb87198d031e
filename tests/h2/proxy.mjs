// tests/h2/proxy.mjs — an HTTP/2-only TLS front for linesim (which speaks
// HTTP/1.1), so that tests/integration/pusher_h2.sh can check that the
// pusher talks HTTP/2 to LINE with verified TLS and multiplexes its
// requests over few connections.  It counts TLS sessions and streams and
// writes them to STATS as JSON every 100 ms.
//
//   node tests/h2/proxy.mjs PORT UPSTREAM_URL KEY CERT STATS
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';

const [port, upstream, key, cert, statsFile] = process.argv.slice(2);
const up = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let sessions = 0;
let streams = 0;
const hop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

const server = http2.createSecureServer({
  key: fs.readFileSync(key),
  cert: fs.readFileSync(cert),
  allowHTTP1: false,
});
server.on('session', () => { sessions += 1; });
server.on('stream', (stream, headers) => {
  streams += 1;
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    const fwd = {};
    for (const [k, v] of Object.entries(headers)) {
      if (!k.startsWith(':') && !hop.has(k)) fwd[k] = v;
    }
    fwd['content-length'] = String(body.length);
    const req = http.request({
      host: up.hostname, port: up.port, agent,
      method: headers[':method'], path: headers[':path'], headers: fwd,
    }, (res) => {
      const out = { ':status': res.statusCode };
      for (const [k, v] of Object.entries(res.headers)) {
        if (!hop.has(k)) out[k] = v;
      }
      stream.respond(out);
      res.pipe(stream);
    });
    req.on('error', () => {
      if (!stream.headersSent) stream.respond({ ':status': 502 });
      stream.end();
    });
    req.end(body);
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
// Written whole and renamed, so a reader never sees a half-written file.
setInterval(() => {
  fs.writeFileSync(`${statsFile}.tmp`, JSON.stringify({ sessions, streams }));
  fs.renameSync(`${statsFile}.tmp`, statsFile);
}, 100);
process.on('SIGTERM', () => process.exit(0));
