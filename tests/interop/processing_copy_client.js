// A Node client for the 102 Processing interop tests (processing_clients.sh): sends one COPY and
// prints what it saw as one JSON line on stdout.
//
// Usage: node processing_copy_client.js http|fetch SOURCE_URL DESTINATION_URL [USER_AGENT]
//   http   http.request; every interim response arrives as an 'information' event, which is
//          recorded with its Keepdav-Resources-Done/-Total headers. http.request sends no
//          User-Agent of its own, and keepdav gives an unknown client no 102 under
//          --processing=auto, so the caller passes one (as real Node WebDAV clients do).
//   fetch  the global fetch (undici, User-Agent "node"); it hides interim responses, so only
//          the final status is reported — the server log tells how many 102s it skipped.
// Output: {"status": N, "interim": [{"status": 102, "done": N, "total": N|null}, ...]}
// Exit status 0 when a final response arrived (whatever its code), 1 on a client error.
'use strict';

const http = require('http');
const https = require('https');

const [mode, source, destination, userAgent] = process.argv.slice(2);
if (!['http', 'fetch'].includes(mode) || !source || !destination) {
  console.error('usage: processing_copy_client.js http|fetch SOURCE_URL DESTINATION_URL [UA]');
  process.exit(2);
}
const headers = { Destination: destination, Overwrite: 'F', Depth: 'infinity' };
if (userAgent) headers['User-Agent'] = userAgent;

function report(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

function numberOrNull(value) {
  return value === undefined ? null : Number(value);
}

if (mode === 'http') {
  const interim = [];
  // https.request over HTTPS (tls_over.sh): the same 'information' events; the test CA comes
  // from NODE_EXTRA_CA_CERTS.
  const client = source.startsWith('https:') ? https : http;
  const req = client.request(source, { method: 'COPY', headers, agent: false }, (res) => {
    res.resume();
    res.on('end', () => report({ status: res.statusCode, interim }));
  });
  // Node lower-cases header names in info.headers.
  req.on('information', (info) => {
    interim.push({
      status: info.statusCode,
      done: numberOrNull(info.headers['keepdav-resources-done']),
      total: numberOrNull(info.headers['keepdav-resources-total']),
    });
  });
  req.on('error', (err) => {
    console.error(`http.request failed: ${err.message}`);
    report({ status: null, interim, error: err.message });
    process.exit(1);
  });
  req.end();
} else {
  fetch(source, { method: 'COPY', headers })
    .then(async (res) => {
      await res.arrayBuffer();
      report({ status: res.status, interim: null });
    })
    .catch((err) => {
      console.error(`fetch failed: ${err.message}${err.cause ? ` (${err.cause.message})` : ''}`);
      report({ status: null, interim: null, error: err.message });
      process.exit(1);
    });
}
