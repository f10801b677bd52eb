// The OpenAPI document checked by tools nobody here wrote, and the server's real answers checked
// against it:
//   1. `vaxledger serve --demo` serves /v1/openapi.json; swagger-parser validates it (OpenAPI
//      3.0 schema, $refs) and redocly lints it with its recommended rules: no errors allowed.
//   2. Every exchange the end-to-end suite (tests/e2e/api_test.cc) recorded in $VX_HTTP_SAMPLES
//      is matched to its operation: the status must be documented, the content type too, and
//      the body must validate against the schema (Ajv); a JSON request body that was accepted
//      (2xx) must validate against the request body's schema.
//
//   VX_BINARY=build/tools/vaxledger VX_HTTP_SAMPLES=build/tests/e2e/http_samples.jsonl \
//     node tests/openapi/validate.test.mjs
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.env.VX_BINARY;
const samplesFile = process.env.VX_HTTP_SAMPLES;
if (!binary) throw new Error('set VX_BINARY to the vaxledger binary');
if (!samplesFile) throw new Error('set VX_HTTP_SAMPLES to the samples the e2e suite wrote');

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
  } else {
    failed += 1;
    console.log(`not ok - ${name}${detail ? `\n  ${detail}` : ''}`);
  }
  return ok;
}

const dir = mkdtempSync(join(tmpdir(), 'vaxledger-openapi-'));
execFileSync(binary, ['init', '--data', join(dir, 'd'), '--demo'], { stdio: 'ignore' });
const server = spawn(binary, ['serve', '--data', join(dir, 'd'), '--listen', '127.0.0.1:0', '--demo'],
  { stdio: ['ignore', 'pipe', 'ignore'] });
const port = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: server.stdout });
  lines.once('line', (line) => {
    const m = line.match(/127\.0\.0\.1:(\d+)/);
    m ? resolve(Number(m[1])) : reject(new Error(`unexpected first line: ${line}`));
  });
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const base = `http://127.0.0.1:${port}`;

// Exchanges of this script's own (the demo routes and HEAD, which the e2e suite's client does
// not make), validated with the recorded ones.
const samples = [];
async function exchange(method, target, body, token) {
  const init = { method, headers: {} };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + target, init);
  const text = await res.text();
  const headers = {};
  res.headers.forEach((v, k) => { headers[k] = v; });
  samples.push({ method, target, request_type: init.headers['content-type'] || '',
    request_body: init.body || '', status: res.status, headers, body: text });
  return { status: res.status, headers, text };
}

let doc;
try {
  const served = await exchange('GET', '/v1/openapi.json');
  doc = JSON.parse(served.text);
  const people = await exchange('GET', '/v1/demo/people');
  const insz = JSON.parse(people.text).people[0].insz;
  await exchange('POST', '/v1/demo/assertion', { insz });
  await exchange('POST', '/v1/demo/assertion', { insz: 'not an insz' });
  for (const target of ['/v1/ledger/keys', '/v1/ledger/proof/inclusion?index=0',
    '/v1/ledger/proof/consistency?from=1', '/v1/ledger/proof/consistency?from=x', '/app.js',
    '/index.html', '/style.css']) {
    await exchange('GET', target);
  }
  // A physician's session for the routes the e2e suite does not call.
  const peeters = JSON.parse(people.text).people.find((p) => p.name === 'Dr. Els Peeters').insz;
  const assertion = JSON.parse((await exchange('POST', '/v1/demo/assertion', { insz: peeters })).text).assertion;
  const token = JSON.parse((await exchange('POST', '/v1/sessions', { assertion })).text).token;
  await exchange('GET', '/v1/vaccines', undefined, token);
  await exchange('PUT', '/v1/session/entity', { entity: 'demo-linde' }, token);
  await exchange('GET', '/v1/entities/demo-linde/vaccinations?limit=2', undefined, token);
  await exchange('GET', '/v1/entities/demo-linde/vaccinations?limit=0', undefined, token);
  await exchange('POST', '/v1/entities/demo-linde/stock/adjustments',
    { product: 'EU/1/20/1528', lot: 'FK5127', delta: -1, reason: 'dropped' }, token);
  for (const target of ['/healthz', '/v1/ledger/checkpoint', '/metrics', '/']) {
    const get = await exchange('GET', target);
    const head = await fetch(base + target, { method: 'HEAD' });
    check(`HEAD ${target} answers as GET without content`,
      head.status === get.status && head.headers.get('content-type') === get.headers['content-type'] &&
      (await head.text()) === '' &&
      (target === '/metrics' || head.headers.get('content-length') === String(Buffer.byteLength(get.text))),
      `HEAD ${head.status} ${head.headers.get('content-length')} vs GET ${get.status} ${Buffer.byteLength(get.text)}`);
  }
} finally {
  server.kill('SIGTERM');
}

// 1. Third-party validators.
const docFile = join(dir, 'openapi.json');
writeFileSync(docFile, JSON.stringify(doc, null, 1));
try {
  await SwaggerParser.validate(structuredClone(doc));
  check('swagger-parser validates the document', true);
} catch (e) {
  check('swagger-parser validates the document', false, e.message);
}
const redocly = spawnSync(join(here, 'node_modules', '.bin', 'redocly'),
  ['lint', '--config', join(here, 'redocly.yaml'), '--format', 'summary', docFile],
  { encoding: 'utf8' });
check("redocly's recommended rules find no error", redocly.status === 0,
  `${redocly.stdout}\n${redocly.stderr}`);

// 2. Real answers against the document.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi.json');
const pointer = (parts) => '#/' + parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
const validators = new Map();
function validate(parts, value) {
  const ref = 'openapi.json' + pointer(parts);
  if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: ref }));
  const v = validators.get(ref);
  return v(value) ? null : ajv.errorsText(v.errors);
}
// A response object and, when it was a $ref, the path of what it refers to.
function resolve(obj) {
  let parts = null;
  while (obj && obj.$ref) {
    parts = obj.$ref.slice(2).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    obj = parts.reduce((o, p) => o[p], doc);
  }
  return { response: obj, parts };
}
// The documented path for a request path: exact paths first, then templates.
const paths = Object.keys(doc.paths);
function route(path) {
  if (doc.paths[path]) return path;
  return paths.find((p) => {
    if (!p.includes('{')) return false;
    const a = p.split('/');
    const b = path.split('/');
    return a.length === b.length && a.every((s, i) => (s.startsWith('{') ? b[i] !== '' : s === b[i]));
  });
}

const recorded = existsSync(samplesFile)
  ? readFileSync(samplesFile, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l)) : [];
check('the end-to-end suite recorded its exchanges', recorded.length >= 150,
  `${recorded.length} samples in ${samplesFile}: run the api_e2e_test tests first (ctest does)`);
const covered = new Set();
for (const s of [...recorded, ...samples]) {
  const path = s.target.split('?')[0];
  const name = `${s.method} ${s.target} -> ${s.status}`;
  const template = route(path);
  const method = s.method.toLowerCase();
  const mediaType = (s.headers['content-type'] || '').split(';')[0].trim();
  if (!template || !doc.paths[template][method]) {
    // An unknown path (404) or method (405): a problem, not an operation of the document.
    check(`${name}: unknown routes answer problems`, [404, 405].includes(s.status) &&
      mediaType === 'application/problem+json' &&
      !validate(['components', 'schemas', 'Problem'], JSON.parse(s.body)), s.body);
    continue;
  }
  const op = doc.paths[template][method];
  covered.add(`${method} ${template}`);
  const { response, parts } = resolve(op.responses[String(s.status)]);
  if (!check(`${name}: the status is documented`, response !== undefined, s.body.slice(0, 300))) continue;
  if (!response.content) {
    check(`${name}: no content`, s.body === '', s.body.slice(0, 300));
    continue;
  }
  const type = Object.keys(response.content).find((t) => t.split(';')[0].trim() === mediaType);
  if (!check(`${name}: the content type ${mediaType} is documented`, type !== undefined)) continue;
  for (const h of Object.keys(response.headers || {})) {
    if (['ETag'].includes(h) && s.target.includes('as_of=')) continue;  // documented: not with as_of
    // documented: a restricted patient view (no care relationship) carries no version
    if (h === 'ETag' && /"restricted":\s*true/.test(s.body)) continue;
    check(`${name}: carries ${h}`, s.headers[h.toLowerCase()] !== undefined);
  }
  if (mediaType.endsWith('json')) {
    let body;
    try { body = JSON.parse(s.body); } catch { check(`${name}: the body is JSON`, false, s.body.slice(0, 300)); continue; }
    const where = parts
      ? [...parts, 'content', type, 'schema']
      : ['paths', template, method, 'responses', String(s.status), 'content', type, 'schema'];
    const error = validate(where, body);
    check(`${name}: the body matches the schema`, !error, `${error}\n  ${s.body.slice(0, 500)}`);
  }
  const requestType = (s.request_type || '').split(';')[0].trim();
  if (s.status < 300 && op.requestBody && requestType === 'application/json' && s.request_body) {
    const error = validate(['paths', template, method, 'requestBody', 'content', 'application/json', 'schema'],
      JSON.parse(s.request_body));
    check(`${name}: the accepted request body matches its schema`, !error, `${error}\n  ${s.request_body.slice(0, 500)}`);
  }
}
const uncovered = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`))
  .filter((o) => !covered.has(o));
check('the samples cover most operations', covered.size >= 36, `${covered.size} operations covered`);
console.log(`${covered.size} operations covered by ${recorded.length + samples.length} exchanges; ` +
  `not covered: ${uncovered.join(', ')}`);
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
