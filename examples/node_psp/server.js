#!/usr/bin/env node
// An independent card-callback PSP in plain Node.js (standard library only), written from
// openapi/card-callback.yaml and openapi/card-callback-v2.yaml, not from the reference server.
//
//   node server.js [PORT] [v1|v2]      (or PORT / NODE_PSP_SHAPE in the environment)
//
// CARD_CALLBACK_HMAC_SECRET: verify x-hmac-signing signatures (unset or empty: not checked).
// CARD_CALLBACK_AUTH_HEADER: the cardCallbackAuthHeader value to demand (v2 only; unset: not checked).
// NODE_PSP_TEST_CARDS=0: no fixed test cards, every outcome is drawn at random.
// NODE_PSP_RANDOM=0: no random outcomes, every card but the test cards is reserved.
// NODE_PSP_ISSUER_MS: the issuer's slowest answer in ms (default 250; it answers in 1/4 to all of it).
// NODE_PSP_DEFECT=NAME: plant one defect (see DEFECTS below) to see whether a suite catches it.
'use strict';

const http = require('http');
const crypto = require('crypto');

// Where each shape keeps its fields (the documents' x-field-roles) and its FAIL codes (x-error-codes).
const SHAPES = {
  v1: {
    card: '',                    // the card fields sit at the top level
    cardDataType: 'paymentInstrument',
    amount: false,
    authHeader: null,
    codes: {
      doNotHonour: '05', stolen: '43', insufficientFunds: '51', expired: '54',
      issuerUnavailable: '91', threeDsFailed: '3DS_FAILED',
    },
  },
  v2: {
    card: 'cardInfo',
    cardDataType: 'cardDataType',
    amount: true,
    authHeader: 'x-card-callback-auth',
    codes: {
      doNotHonour: 300, stolen: 43, insufficientFunds: 51, expired: 54,
      issuerUnavailable: 91, threeDsFailed: 301,
    },
  },
};

const DEFECTS = new Set([
  'retry-409',          // a new attempt of a payment that already FAILed is refused
  'second-callback-409', // the soft-decline second callback is refused as a conflict
  'race',               // the attempt is looked up, the issuer called, and only then stored
  'reserialized-hash',  // content hash over JSON.stringify(JSON.parse(body)), as the JS sample does
  'header-case',        // HMAC headers looked up with their exact case only
  'echo-card',          // the token number or encrypted PAN comes back in the answer
  'slow',               // some valid callbacks are answered after the deadline
  '500-on-unicode',     // a body with non-ASCII characters crashes the handler
  'stale-ok',           // X-Ms-Date is not checked against the clock
  'unknown-field-400',  // unknown properties are refused instead of ignored
  'no-idempotency',     // an identical callback is authorized again
  'python-dollar',      // patterns read with Python's `$` (a final newline passes)
  'unsigned-ok',        // a callback without any signature headers is let through
  'payment-replay',     // answers are stored per pspReference: a retry gets the first attempt's answer
  'attempt-key-only',   // answers are stored per attempt id, whatever the body: no 409, no second callback
  'future-ok',          // an X-Ms-Date in the future is accepted however far ahead
  'echo-in-problem',    // a 400 quotes the card data of the callback it refuses
]);
const payments = new Map();       // pspReference -> first answer (used by the payment-replay defect)

const port = Number(process.argv[2] || process.env.PORT || 8082);
const shapeName = process.argv[3] || process.env.NODE_PSP_SHAPE || 'v1';
const SHAPE = SHAPES[shapeName];
if (!SHAPE) throw new Error(`unknown shape ${shapeName}; use v1 or v2`);
const CALLBACK_PATH = process.env.NODE_PSP_PATH || '/vipps/card-callback';
const SECRET = process.env.CARD_CALLBACK_HMAC_SECRET || '';
const AUTH_VALUE = SHAPE.authHeader ? (process.env.CARD_CALLBACK_AUTH_HEADER || '') : '';
const DEFECT = process.env.NODE_PSP_DEFECT || '';
if (DEFECT && !DEFECTS.has(DEFECT)) throw new Error(`unknown NODE_PSP_DEFECT ${DEFECT}`);
const USE_TEST_CARDS = process.env.NODE_PSP_TEST_CARDS !== '0';
const RANDOM_ISSUER = process.env.NODE_PSP_RANDOM !== '0'; // 0: every card but the test cards is RESERVEd
const SLOW_MS = Number(process.env.NODE_PSP_SLOW_MS || 21000);
const MAX_BODY = 64 * 1024;
const MAX_SKEW_MS = 300 * 1000;   // x-hmac-signing maxClockSkewSeconds
const ISSUER_BUDGET_MS = 15000;   // answer FAIL "outcome unknown" well before the 20 s deadline

// attemptId -> {payment, first: {canon, answer}, second: {canon, answer} | null, session}
const attempts = new Map();
const sessions = new Map();       // 3-D Secure session id -> {attemptId, approved, returnUrl}
const failedPayments = new Set(); // pspReferences with a FAIL answer (used by the retry-409 defect)

class Refusal extends Error {
  constructor(status, title, detail) { super(detail); this.status = status; this.title = title; }
}

// ---------------------------------------------------------------- validation (the request schema)

function patternTest(re, value) {
  // OpenAPI patterns are ECMA-262: `$` is the end of the string. The defect reads it as Python does.
  if (DEFECT === 'python-dollar' && value.endsWith('\n')) return re.test(value.slice(0, -1));
  return re.test(value);
}

function str(obj, key, where, { required = true, pattern = null, enumOf = null, uri = false } = {}) {
  const at = `${where}${key}`;
  if (!(key in obj)) {
    if (required) throw new Refusal(400, 'Bad Request', `${at}: is required`);
    return undefined;
  }
  const v = obj[key];
  if (typeof v !== 'string') throw new Refusal(400, 'Bad Request', `${at}: must be a string`);
  if (v.length < 1) throw new Refusal(400, 'Bad Request', `${at}: must not be empty`);
  if (pattern && !patternTest(pattern, v)) {
    throw new Refusal(400, 'Bad Request', `${at}: does not match the pattern ${pattern.source}`);
  }
  if (enumOf && !enumOf.includes(v)) {
    throw new Refusal(400, 'Bad Request', `${at}: must be one of ${enumOf.join(', ')}`);
  }
  if (uri && !isUri(v)) throw new Refusal(400, 'Bad Request', `${at}: must be an absolute URI`);
  return v;
}

// https, or plain http to a loopback host only (the documents' pattern for both redirect URLs).
const REDIRECT_URL = new RegExp('^(?:https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|http://(?:localhost|'
  + '127(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|\\[::1\\]))(?::[0-9]{1,5})?(?:[/?#]\\S*)?$');

function isUri(v) {
  // RFC 3986 absolute URI: a scheme, no whitespace or control characters, no non-ASCII.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]*$/.test(v)) return false;
  try { new URL(v); return true; } catch { return false; }
}

// JSON.parse reads numbers as doubles, and 2^63 - 1 (the largest int64) rounds up to 2^63: a value that
// large is judged on the digits as written, with BigInt.
function fitsInt64(value, raw) {
  const written = [...raw.matchAll(/"value"\s*:\s*(\d+)(?![.eE\d])/g)].map((m) => m[1]);
  return written.some((digits) => Number(digits) === value && BigInt(digits) <= 9223372036854775807n);
}

function obj(parent, key, where, required) {
  const at = `${where}${key}`;
  if (!(key in parent)) {
    if (required) throw new Refusal(400, 'Bad Request', `${at}: is required`);
    return undefined;
  }
  const v = parent[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new Refusal(400, 'Bad Request', `${at}: must be an object`);
  }
  return v;
}

function validateToken(tok, where) {
  str(tok, 'number', where, { pattern: /^[0-9]{1,19}$/ });
  str(tok, 'cryptogram', where);
  str(tok, 'expiryMonth', where, { pattern: /^(0[1-9]|1[0-2])$/ });
  str(tok, 'expiryYear', where, { pattern: /^[0-9]{4}$/ });
  str(tok, 'tokenType', where, { required: false, enumOf: ['VISA', 'MASTERCARD'] });
  str(tok, 'eci', where, { required: false, pattern: /^[0-9]{1,2}$/ });
  str(tok, 'paymentAccountReference', where, { required: false, pattern: /^[A-Z0-9]{29}$/ });
}

// Returns the fields this PSP acts on; throws a Refusal naming the first broken field (never its value).
function validate(body, raw) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Refusal(400, 'Bad Request', 'the body must be a JSON object');
  }
  const known = new Set(['pspReference', 'authorizationAttemptId', 'merchantSerialNumber',
    'softDeclineCompletedRedirectUrl']);
  const pspReference = str(body, 'pspReference', '');
  const attemptId = str(body, 'authorizationAttemptId', '');
  str(body, 'merchantSerialNumber', '', { pattern: /^[0-9]{4,6}$/ });
  const returnUrl = str(body, 'softDeclineCompletedRedirectUrl', '', { uri: true, pattern: REDIRECT_URL });
  if (SHAPE.amount) {
    known.add('amount');
    const amount = obj(body, 'amount', '', true);
    const value = amount.value;
    if (!('value' in amount)) throw new Refusal(400, 'Bad Request', 'amount/value: is required');
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new Refusal(400, 'Bad Request', 'amount/value: must be an integer');
    }
    if (value < 1) throw new Refusal(400, 'Bad Request', 'amount/value: must be at least 1');
    if (value >= 2 ** 63 && !fitsInt64(value, raw)) throw new Refusal(400, 'Bad Request', 'amount/value: above int64');
    str(amount, 'currency', 'amount/', { pattern: /^[A-Z]{3}$/ });
  }
  let card = body;
  let where = '';
  if (SHAPE.card) {
    known.add(SHAPE.card);
    card = obj(body, SHAPE.card, '', true);
    where = `${SHAPE.card}/`;
  }
  const masked = str(card, 'maskedCardNumber', where, { pattern: /^[0-9]{6,8}X{1,9}[0-9]{4}$/ });
  str(card, 'cardType', where);
  str(card, 'cardIssuedInCountryCode', where, { pattern: /^[A-Z]{2}$/ });
  const kind = str(card, SHAPE.cardDataType, where, { enumOf: ['TOKEN', 'PAN'] });
  const token = obj(card, 'networkToken', where, kind === 'TOKEN');
  if (token !== undefined) validateToken(token, `${where}networkToken/`);
  const pan = str(card, 'encryptedPan', where, { required: kind === 'PAN' });
  for (const k of ['maskedCardNumber', 'cardType', 'cardIssuedInCountryCode', SHAPE.cardDataType,
    'networkToken', 'encryptedPan']) {
    if (!SHAPE.card) known.add(k);
  }
  if (DEFECT === 'unknown-field-400') {
    const extra = Object.keys(body).find((k) => !known.has(k));
    if (extra !== undefined) throw new Refusal(400, 'Bad Request', `${extra}: is not allowed`);
  }
  return {
    pspReference, attemptId, returnUrl, last4: masked.slice(-4),
    cardData: [token && token.number, token && token.cryptogram, pan].filter(Boolean),
  };
}

// ---------------------------------------------------------------- HMAC (x-hmac-signing)

function header(req, name) {
  if (DEFECT === 'header-case') {
    // The planted defect: only the exact spelling of the document is found.
    const exact = { 'x-ms-date': 'X-Ms-Date', 'x-ms-content-sha256': 'X-Ms-Content-Sha256',
      authorization: 'Authorization' }[name] || name;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i] === exact) return req.rawHeaders[i + 1];
    }
    return undefined;
  }
  return req.headers[name]; // Node lower-cases header names: the lookup is case-insensitive
}

function sameText(a, b) {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function verifySignature(req, raw) {
  const date = header(req, 'x-ms-date');
  const hash = header(req, 'x-ms-content-sha256');
  const auth = header(req, 'authorization');
  if (date === undefined || hash === undefined || auth === undefined) {
    if (DEFECT === 'unsigned-ok' && date === undefined && hash === undefined && auth === undefined) return;
    throw new Refusal(401, 'Unauthorized', 'the signature headers are missing');
  }
  let hashed = raw;
  if (DEFECT === 'reserialized-hash') {
    try { hashed = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))), 'utf8'); } catch { /* raw */ }
  }
  const expected = crypto.createHash('sha256').update(hashed).digest('base64');
  if (!sameText(hash, expected)) {
    throw new Refusal(401, 'Unauthorized', 'X-Ms-Content-Sha256 does not match the body received');
  }
  const when = Date.parse(date);
  if (Number.isNaN(when)) throw new Refusal(401, 'Unauthorized', 'X-Ms-Date is not an HTTP date');
  const skew = DEFECT === 'future-ok' ? Date.now() - when : Math.abs(Date.now() - when);
  if (DEFECT !== 'stale-ok' && skew > MAX_SKEW_MS) {
    throw new Refusal(401, 'Unauthorized', 'X-Ms-Date is outside the allowed clock skew');
  }
  const m = /^HMAC-SHA256 SignedHeaders=([^&]*)&Signature=(.*)$/.exec(auth);
  if (!m || m[1].toLowerCase() !== 'x-ms-date;host;x-ms-content-sha256') {
    throw new Refusal(401, 'Unauthorized', 'the Authorization header is not HMAC-SHA256 over x-ms-date;host;x-ms-content-sha256');
  }
  // The path and query exactly as sent (req.url is not decoded), the Host header with its port.
  const toSign = `POST\n${req.url}\n${date};${req.headers.host || ''};${hash}`;
  const signature = crypto.createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(toSign).digest('base64');
  if (!sameText(m[2], signature)) throw new Refusal(401, 'Unauthorized', 'the signature does not match');
}

// ---------------------------------------------------------------- the issuer (random, as a real one)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ref = () => crypto.randomBytes(8).toString('hex');

function fail(code, message) { return { status: 'FAIL', errorCode: code, errorMessage: message }; }

function issuerDecides(fields) {
  const c = SHAPE.codes;
  if (USE_TEST_CARDS) {
    if (fields.last4 === '0002') return { status: 'CAPTURE', networkTransactionReference: ref() };
    if (fields.last4 === '0051') return fail(c.insufficientFunds, 'Insufficient funds');
    if (fields.last4 === '0043') return fail(c.stolen, 'Stolen card');
    if (fields.last4 === '3000') return { status: 'SOFT_DECLINE' };
  }
  const r = RANDOM_ISSUER ? Math.random() : 0;
  if (r < 0.70) return { status: 'RESERVE', networkTransactionReference: ref() };
  if (r < 0.75) return { status: 'CAPTURE', networkTransactionReference: ref() };
  if (r < 0.80) return { status: 'SOFT_DECLINE' };
  if (r < 0.86) return fail(c.insufficientFunds, 'Insufficient funds');
  if (r < 0.91) return fail(c.doNotHonour, 'Refused by issuer');
  if (r < 0.95) return fail(c.expired, 'Expired card');
  return fail(c.stolen, 'Stolen card');
}

// The issuer takes a quarter to all of NODE_PSP_ISSUER_MS (default 60-250 ms), as card networks do;
// one slower than the budget gets "outcome unknown".
const ISSUER_MS = Number(process.env.NODE_PSP_ISSUER_MS || 250);
async function authorize(fields) {
  const latency = Math.floor(ISSUER_MS / 4 + Math.random() * ISSUER_MS * 0.75);
  const outcome = await Promise.race([
    sleep(latency).then(() => issuerDecides(fields)),
    sleep(ISSUER_BUDGET_MS).then(() => fail(SHAPE.codes.issuerUnavailable, 'Outcome unknown; the payment will be updated')),
  ]);
  return outcome;
}

function softDecline(fields, host) {
  const session = crypto.randomBytes(12).toString('hex');
  sessions.set(session, { attemptId: fields.attemptId, approved: false, returnUrl: fields.returnUrl });
  return { answer: { status: 'SOFT_DECLINE', softDeclineRedirectUrl: `http://${host}/3ds/${session}` }, session };
}

// ---------------------------------------------------------------- the callback

function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

async function handleCallback(req, raw) {
  if (SECRET) verifySignature(req, raw);
  if (AUTH_VALUE) {
    const given = header(req, SHAPE.authHeader);
    if (given === undefined || !sameText(given, AUTH_VALUE)) {
      throw new Refusal(401, 'Unauthorized', 'the cardCallbackAuthHeader value is missing or wrong');
    }
  }
  const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new Refusal(415, 'Unsupported Media Type', 'the body must be application/json');
  if (DEFECT === '500-on-unicode' && raw.some((b) => b > 0x7f)) throw new Error('unexpected character');
  let text;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(raw); } catch {
    throw new Refusal(400, 'Bad Request', 'the body is not UTF-8');
  }
  let body;
  try { body = JSON.parse(text); } catch { throw new Refusal(400, 'Bad Request', 'the body is not JSON'); }
  let fields;
  try { fields = validate(body, text); } catch (err) {
    if (DEFECT === 'echo-in-problem' && err instanceof Refusal) {
      const card = SHAPE.card ? body[SHAPE.card] : body;
      err.message += ` in ${JSON.stringify((card && card.networkToken) || null)}`;
    }
    throw err;
  }
  const canon = canonical(body);
  const host = req.headers.host || `127.0.0.1:${port}`;

  const seen = DEFECT === 'no-idempotency' ? undefined : attempts.get(fields.attemptId);
  if (DEFECT === 'attempt-key-only' && seen !== undefined) return seen.first.answer;
  if (DEFECT === 'payment-replay' && seen === undefined && payments.has(fields.pspReference)) {
    return payments.get(fields.pspReference);
  }
  if (seen === undefined) {
    if (DEFECT === 'retry-409' && failedPayments.has(fields.pspReference)) {
      throw new Refusal(409, 'Conflict', 'this payment has already failed');
    }
    const entry = { payment: fields.pspReference, first: { canon, answer: null }, second: null, session: null };
    if (DEFECT === 'race') {
      // The planted defect: the issuer is called before the attempt is stored.
      const answer = await decide(fields, host, entry);
      entry.first.answer = Promise.resolve(answer);
      attempts.set(fields.attemptId, entry);
      return answer;
    }
    // Stored before anything is awaited: concurrent copies find this entry and share its answer.
    entry.first.answer = decide(fields, host, entry);
    attempts.set(fields.attemptId, entry);
    if (!payments.has(fields.pspReference)) payments.set(fields.pspReference, entry.first.answer);
    return entry.first.answer;
  }
  if (seen.first.canon === canon) return seen.first.answer;
  if (seen.second && seen.second.canon === canon) return seen.second.answer;
  const first = await seen.first.answer;
  if (first.status === 'SOFT_DECLINE' && seen.second === null && seen.payment === fields.pspReference) {
    if (DEFECT === 'second-callback-409') {
      throw new Refusal(409, 'Conflict', 'this authorizationAttemptId was already answered');
    }
    // The second callback after 3-D Secure: approved on our page -> authorize, else 3DS failed.
    const session = sessions.get(seen.session);
    seen.second = {
      canon,
      answer: session && session.approved
        ? authorize({ ...fields, last4: '' }).then((a) => (a.status === 'SOFT_DECLINE' ? { status: 'RESERVE', networkTransactionReference: ref() } : a))
        : Promise.resolve(fail(SHAPE.codes.threeDsFailed, '3-D Secure was not completed')),
    };
    return seen.second.answer;
  }
  throw new Refusal(409, 'Conflict', 'this authorizationAttemptId was already answered for a different callback');
}

async function decide(fields, host, entry) {
  let answer = await authorize(fields);
  if (answer.status === 'SOFT_DECLINE') {
    const sd = softDecline(fields, host);
    answer = sd.answer;
    entry.session = sd.session;
  }
  if (answer.status === 'FAIL') failedPayments.add(fields.pspReference);
  if (DEFECT === 'echo-card' && fields.cardData.length > 0) answer = { ...answer, cardReference: fields.cardData[0] };
  if (DEFECT === 'slow' && fields.last4.endsWith('0')) await sleep(SLOW_MS);
  return answer;
}

// ---------------------------------------------------------------- HTTP

function send(res, status, payload, type = 'application/json') {
  const data = Buffer.from(JSON.stringify(payload), 'utf8');
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': data.length });
  res.end(data);
}

function problem(res, status, title, detail) {
  send(res, status, { type: 'about:blank', title, status, detail }, 'application/problem+json');
}

function log(outcome) {
  // The outcome only: never card data.
  if (process.env.NODE_PSP_QUIET !== '1') process.stderr.write(`callback answered ${outcome}\n`);
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && path.startsWith('/3ds/')) {
    const session = sessions.get(path.slice(5));
    if (!session) return problem(res, 404, 'Not Found', 'no such 3-D Secure session');
    session.approved = true;
    res.writeHead(303, { Location: session.returnUrl });
    return res.end();
  }
  if (path !== CALLBACK_PATH) return problem(res, 404, 'Not Found', 'no such endpoint');
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return problem(res, 405, 'Method Not Allowed', 'the callback is a POST');
  }
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) tooLarge = true; else chunks.push(c);
  });
  req.on('error', () => res.destroy());
  req.on('end', async () => {
    if (tooLarge) return problem(res, 413, 'Payload Too Large', `the body is larger than ${MAX_BODY} bytes`);
    const raw = Buffer.concat(chunks);
    try {
      const answer = await handleCallback(req, raw);
      log(answer.status);
      send(res, 200, answer);
    } catch (err) {
      if (err instanceof Refusal) return problem(res, err.status, err.title, err.message);
      log('500 internal error');
      return problem(res, 500, 'Internal Server Error', 'the PSP could not judge the callback');
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  const { port: bound } = server.address();
  process.stdout.write(`listening on http://127.0.0.1:${bound}${CALLBACK_PATH} (${shapeName}${SECRET ? ', HMAC checked' : ''}${AUTH_VALUE ? ', auth header checked' : ''}${DEFECT ? `, defect ${DEFECT}` : ''})\n`);
});
