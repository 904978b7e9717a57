#!/usr/bin/env node
// An OTLP/HTTP collector for the integration tests: it takes POST /v1/traces with an OTLP JSON
// body (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding), checks the body
// against the official OTLP definitions (the protobufjs root generated into the npm package
// @opentelemetry/otlp-transformer), keeps every span it accepted, and shows them to the test.
//
//   node otlp_receiver.mjs --packages DIR [--port N] [--status S] [--retry-after SECONDS]
//                          [--fail-first N] [--hang] [--delay-ms D]
//
//   --packages DIR   the folder where `npm ci` installed test/support/otlp/package.json
//                    (DIR/node_modules/...); default: test/support/otlp beside this file
//   --port N         the port on 127.0.0.1 (0, the default: the OS picks one). Once it listens
//                    it prints `listening on 127.0.0.1:PORT` on stdout.
//   --fail-first N   answer the first N posts with --status S (default 503), with
//                    `Retry-After: SECONDS` when --retry-after is given; their spans are not kept
//   --hang           read every post and never answer it (the connection stays open)
//   --delay-ms D     answer each post D ms after it arrived
//
// What it saw, for the test (JSON):
//   GET /spans   {"spans":[...]}: every accepted span in arrival order, each as
//                {traceId, spanId, parentSpanId ("" when none), traceState, flags, name, kind
//                (number, 0 when absent), startTimeUnixNano, endTimeUnixNano (decimal strings),
//                attributes {key: value} (intValue as a number when it is a safe integer,
//                else its string), attributeTypes {key: "intValue" | "stringValue" | ...},
//                events [{name, timeUnixNano, attributes, attributeTypes}], links,
//                status {code (number, 0 when absent), message}, resource {key: value},
//                scope {name, version}, post (the 1-based number of the post that carried it)}
//   GET /posts   {"count": N, "statuses": [200, 503, ...], "posts": [{status, spans, problem, at}]}:
//                every POST in arrival order with the status it was answered (0: not answered,
//                --hang), how many spans it carried, why it was refused ("" when it was not),
//                and when it arrived (ms since the epoch)
//   DELETE /spans  forgets the spans and posts seen so far
//
// A body is refused (400, and the reason in /posts) when it is not JSON, when a field is not in
// the OTLP definitions (unknown fields are rejected, not ignored), when a value does not have
// its field's type in OTLP JSON (int64 and fixed64 as decimal strings, enums as numbers, ids as
// hex), or when a span's traceId / spanId is not 16 / 8 non-zero bytes.

import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------- command line

function usage(problem) {
    process.stderr.write(`otlp_receiver: ${problem}\n`);
    process.exit(2);
}

const options = {
    packages: path.join(path.dirname(fileURLToPath(import.meta.url)), 'otlp'),
    port: 0,
    status: 503,
    retryAfter: null,
    failFirst: 0,
    hang: false,
    delayMs: 0,
};
{
    const args = process.argv.slice(2);
    const integer = (name, text, min, max) => {
        if (text === undefined || !/^\d+$/.test(text)) usage(`${name} wants a number, got '${text}'`);
        const value = Number(text);
        if (value < min || value > max) usage(`${name} must be from ${min} to ${max}, got ${value}`);
        return value;
    };
    for (let i = 0; i < args.length; ++i) {
        const flag = args[i];
        switch (flag) {
            case '--packages':
                if (args[i + 1] === undefined) usage('--packages wants a folder');
                options.packages = path.resolve(args[++i]);
                break;
            case '--port': options.port = integer(flag, args[++i], 0, 65535); break;
            case '--status': options.status = integer(flag, args[++i], 100, 599); break;
            case '--retry-after': options.retryAfter = integer(flag, args[++i], 0, 3600); break;
            case '--fail-first': options.failFirst = integer(flag, args[++i], 0, 1e9); break;
            case '--delay-ms': options.delayMs = integer(flag, args[++i], 0, 600000); break;
            case '--hang': options.hang = true; break;
            default: usage(`unknown argument '${flag}'`);
        }
    }
}

// ---------------------------------------------------------------- the OTLP definitions

// The root pbjs generated (static module, CommonJS) from opentelemetry-proto, as the package
// ships it. Resolved from the folder the packages were installed into, not from this file's.
const require = createRequire(path.join(options.packages, 'package.json'));
let root;
try {
    root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
} catch (error) {
    usage(`cannot load the OTLP definitions from ${options.packages} (npm ci there first): ${error.message}`);
}
const ExportTraceServiceRequest = root?.opentelemetry?.proto?.collector?.trace?.v1?.ExportTraceServiceRequest;
if (!ExportTraceServiceRequest) {
    usage('the installed @opentelemetry/otlp-transformer has no opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
}

// ---------------------------------------------------------------- validation

class Refusal extends Error {}

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/// OTLP JSON writes trace and span ids as hex where the proto3 JSON mapping would write base64
/// (the spec's one deviation); protobufjs' fromObject expects the latter or bytes. `where`
/// names the field for a refusal; `bytes` is its length (0: the field may be empty).
function hexToBytes(value, where, bytes, mayBeEmpty) {
    if (typeof value !== 'string') throw new Refusal(`${where}: a hex string expected, got ${JSON.stringify(value)}`);
    if (value === '' && mayBeEmpty) return Buffer.alloc(0);
    if (!/^[0-9a-fA-F]*$/.test(value) || value.length !== 2 * bytes) {
        throw new Refusal(`${where}: ${2 * bytes} hex digits expected, got ${JSON.stringify(value)}`);
    }
    if (/^0+$/.test(value)) throw new Refusal(`${where}: an all-zero id is invalid`);
    return Buffer.from(value, 'hex');
}

/// The fixed64 times: a decimal string of a number of nanoseconds (protobufjs would take "-1").
function checkTime(value, where) {
    if (value === undefined) return;
    if (typeof value !== 'string' || !/^\d{1,20}$/.test(value) || BigInt(value) >= 2n ** 64n) {
        throw new Refusal(`${where}: nanoseconds as a decimal string expected, got ${JSON.stringify(value)}`);
    }
}

/// A deep copy of the request with every span's and link's ids as bytes.
function withIdBytes(body) {
    const copy = structuredClone(body);
    const each = (list, where, visit) => {
        if (list === undefined || list === null) return;
        if (!Array.isArray(list)) throw new Refusal(`${where}: an array expected`);
        list.forEach((item, i) => visit(item, `${where}[${i}]`));
    };
    each(copy.resourceSpans, 'resourceSpans', (resourceSpans, where) => {
        if (!isObject(resourceSpans)) return;
        each(resourceSpans.scopeSpans, `${where}.scopeSpans`, (scopeSpans, where) => {
            if (!isObject(scopeSpans)) return;
            each(scopeSpans.spans, `${where}.spans`, (span, where) => {
                if (!isObject(span)) throw new Refusal(`${where}: an object expected`);
                for (const key of ['startTimeUnixNano', 'endTimeUnixNano']) checkTime(span[key], `${where}.${key}`);
                each(span.events, `${where}.events`, (event, where) => {
                    if (isObject(event)) checkTime(event.timeUnixNano, `${where}.timeUnixNano`);
                });
                span.traceId = hexToBytes(span.traceId, `${where}.traceId`, 16, false);
                span.spanId = hexToBytes(span.spanId, `${where}.spanId`, 8, false);
                if (span.parentSpanId !== undefined) {
                    span.parentSpanId = hexToBytes(span.parentSpanId, `${where}.parentSpanId`, 8, true);
                }
                each(span.links, `${where}.links`, (link, where) => {
                    if (!isObject(link)) throw new Refusal(`${where}: an object expected`);
                    link.traceId = hexToBytes(link.traceId, `${where}.traceId`, 16, false);
                    link.spanId = hexToBytes(link.spanId, `${where}.spanId`, 8, false);
                });
            });
        });
    });
    return copy;
}

/// The ids back to hex in protobufjs' toObject output (which writes bytes as base64).
function idsToHex(canonical) {
    const hex = (base64) => Buffer.from(base64, 'base64').toString('hex');
    for (const resourceSpans of canonical.resourceSpans ?? []) {
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
                for (const key of ['traceId', 'spanId', 'parentSpanId']) {
                    if (typeof span[key] === 'string') span[key] = hex(span[key]);
                }
                for (const link of span.links ?? []) {
                    for (const key of ['traceId', 'spanId']) {
                        if (typeof link[key] === 'string') link[key] = hex(link[key]);
                    }
                }
            }
        }
    }
}

/// Throws a Refusal naming the first place where `sent` (the JSON as received, ids in lower
/// case) and `canonical` (the same request after protobufjs read it by the OTLP definitions and
/// wrote it back out the OTLP JSON way) differ. What protobufjs drops is a field the
/// definitions do not have; what it changes is a value of the wrong type ("abc" for a
/// fixed64 reads as 0, 7 for a string field as "7", "SPAN_KIND_SERVER" for an enum as 2). An
/// absent repeated field and an empty one are the same.
function compare(sent, canonical, where) {
    if (Array.isArray(sent) || Array.isArray(canonical)) {
        if (!Array.isArray(sent)) throw new Refusal(`${where}: an array expected, got ${JSON.stringify(sent)}`);
        if (!Array.isArray(canonical) || sent.length !== canonical.length) {
            throw new Refusal(`${where}: not a list of the field's type`);
        }
        sent.forEach((item, i) => compare(item, canonical[i], `${where}[${i}]`));
        return;
    }
    if (isObject(sent) || isObject(canonical)) {
        if (!isObject(sent)) throw new Refusal(`${where}: an object expected, got ${JSON.stringify(sent)}`);
        if (!isObject(canonical)) throw new Refusal(`${where}: ${JSON.stringify(sent)} is not of the field's type`);
        for (const key of Object.keys(sent)) {
            const at = where ? `${where}.${key}` : key;
            if (!(key in canonical)) {
                if (Array.isArray(sent[key]) && sent[key].length === 0) continue;
                if (sent[key] === null) continue;  // proto3 JSON: null is the default value
                throw new Refusal(`${at}: no such field in the OTLP definitions (or a value of the wrong type)`);
            }
            compare(sent[key], canonical[key], at);
        }
        for (const key of Object.keys(canonical)) {
            if (key in sent) continue;
            if (Array.isArray(canonical[key]) && canonical[key].length === 0) continue;
            throw new Refusal(`${where ? `${where}.` : ''}${key}: appeared in reading the body (${JSON.stringify(canonical[key])})`);
        }
        return;
    }
    if (sent !== canonical) {
        throw new Refusal(`${where}: ${JSON.stringify(sent)} is not a valid value of the field's type (it reads as ${JSON.stringify(canonical)})`);
    }
}

/// The request read by the OTLP definitions, or a Refusal.
function validate(body) {
    if (!isObject(body)) throw new Refusal('the body is not a JSON object');
    const message = ExportTraceServiceRequest.fromObject(withIdBytes(body));
    const problem = ExportTraceServiceRequest.verify(message);
    if (problem) throw new Refusal(`ExportTraceServiceRequest.verify: ${problem}`);
    // It also survives the binary wire format.
    ExportTraceServiceRequest.decode(ExportTraceServiceRequest.encode(message).finish());
    const canonical = ExportTraceServiceRequest.toObject(message, {
        longs: String, enums: Number, bytes: String, defaults: false, arrays: true,
    });
    idsToHex(canonical);
    const sent = structuredClone(body);
    for (const resourceSpans of sent.resourceSpans ?? []) {
        for (const scopeSpans of resourceSpans?.scopeSpans ?? []) {
            for (const span of scopeSpans?.spans ?? []) {
                for (const key of ['traceId', 'spanId', 'parentSpanId']) {
                    if (typeof span[key] === 'string') span[key] = span[key].toLowerCase();
                }
                if (span.parentSpanId === '') delete span.parentSpanId;
                for (const link of span.links ?? []) {
                    for (const key of ['traceId', 'spanId']) {
                        if (typeof link[key] === 'string') link[key] = link[key].toLowerCase();
                    }
                }
            }
        }
    }
    for (const resourceSpans of canonical.resourceSpans ?? []) {
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
                if (span.parentSpanId === '') delete span.parentSpanId;
            }
        }
    }
    compare(sent, canonical, '');
    return canonical;
}

// ---------------------------------------------------------------- what the test sees

/// An AnyValue as a plain JSON value, and its kind ("stringValue", "intValue", ...).
function plainValue(anyValue) {
    if (!isObject(anyValue)) return [null, 'empty'];
    if ('stringValue' in anyValue) return [anyValue.stringValue, 'stringValue'];
    if ('boolValue' in anyValue) return [anyValue.boolValue, 'boolValue'];
    if ('intValue' in anyValue) {
        const value = BigInt(anyValue.intValue);
        return [Number.isSafeInteger(Number(value)) ? Number(value) : anyValue.intValue, 'intValue'];
    }
    if ('doubleValue' in anyValue) return [anyValue.doubleValue, 'doubleValue'];
    if ('bytesValue' in anyValue) return [anyValue.bytesValue, 'bytesValue'];
    if ('arrayValue' in anyValue) {
        return [(anyValue.arrayValue.values ?? []).map((item) => plainValue(item)[0]), 'arrayValue'];
    }
    if ('kvlistValue' in anyValue) return [flatten(anyValue.kvlistValue.values).attributes, 'kvlistValue'];
    return [null, 'empty'];
}

/// A KeyValue list as {key: value} and {key: kind}.
function flatten(keyValues) {
    const attributes = {};
    const attributeTypes = {};
    for (const { key, value } of keyValues ?? []) {
        const [plain, kind] = plainValue(value);
        attributes[key] = plain;
        attributeTypes[key] = kind;
    }
    return { attributes, attributeTypes };
}

const spans = [];
const posts = [];

function keep(canonical, post) {
    let count = 0;
    for (const resourceSpans of canonical.resourceSpans ?? []) {
        const resource = flatten(resourceSpans.resource?.attributes).attributes;
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            const scope = { name: scopeSpans.scope?.name ?? '', version: scopeSpans.scope?.version ?? '' };
            for (const span of scopeSpans.spans ?? []) {
                spans.push({
                    traceId: span.traceId ?? '',
                    spanId: span.spanId ?? '',
                    parentSpanId: span.parentSpanId ?? '',
                    traceState: span.traceState ?? '',
                    flags: span.flags ?? 0,
                    name: span.name ?? '',
                    kind: span.kind ?? 0,
                    startTimeUnixNano: span.startTimeUnixNano ?? '0',
                    endTimeUnixNano: span.endTimeUnixNano ?? '0',
                    ...flatten(span.attributes),
                    events: (span.events ?? []).map((event) => ({
                        name: event.name ?? '',
                        timeUnixNano: event.timeUnixNano ?? '0',
                        ...flatten(event.attributes),
                    })),
                    links: (span.links ?? []).map((link) => ({
                        traceId: link.traceId ?? '', spanId: link.spanId ?? '', ...flatten(link.attributes),
                    })),
                    status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
                    resource,
                    scope,
                    post,
                });
                ++count;
            }
        }
    }
    return count;
}

// ---------------------------------------------------------------- the server

function answer(response, status, body, headers = {}) {
    const text = JSON.stringify(body);
    response.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        ...headers,
    });
    response.end(text);
}

function receiveTraces(request, response, raw) {
    const post = { status: 0, spans: 0, problem: '', at: Date.now() };
    posts.push(post);
    const number = posts.length;
    const reply = (status, body, headers) => {
        if (options.hang) return;  // read, never answered: the connection stays open
        const send = () => {
            post.status = status;
            answer(response, status, body, headers);
        };
        if (options.delayMs > 0) setTimeout(send, options.delayMs); else send();
    };
    const refuse = (status, problem) => {
        post.problem = problem;
        process.stderr.write(`otlp_receiver: post ${number} refused (${status}): ${problem}\n`);
        reply(status, { code: 3, message: problem });
    };

    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') return refuse(415, `Content-Type ${JSON.stringify(type)}, not application/json`);
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') return refuse(415, `Content-Encoding ${encoding} is not supported here`);
    let body;
    try {
        body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
        return refuse(400, `not JSON: ${error.message}`);
    }
    let canonical;
    try {
        canonical = validate(body);
    } catch (error) {
        return refuse(400, error instanceof Refusal ? error.message : `not an ExportTraceServiceRequest: ${error.message}`);
    }
    let carried = 0;
    for (const resourceSpans of canonical.resourceSpans ?? []) {
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) carried += (scopeSpans.spans ?? []).length;
    }
    post.spans = carried;
    if (number <= options.failFirst) {
        const headers = options.retryAfter === null ? {} : { 'Retry-After': String(options.retryAfter) };
        return reply(options.status, { code: 14, message: `failing the first ${options.failFirst} posts` }, headers);
    }
    // Accepted, and kept at once even when the answer is delayed (--delay-ms). A post that is
    // never answered (--hang) is not kept: the sender will take it for lost and send it again.
    if (!options.hang) keep(canonical, number);
    reply(200, { partialSuccess: {} });
}

const server = http.createServer((request, response) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
        size += chunk.length;
        if (size <= 64 * 1024 * 1024) chunks.push(chunk);
    });
    request.on('end', () => {
        const url = new URL(request.url, 'http://receiver');
        if (request.method === 'POST' && url.pathname === '/v1/traces') {
            if (size > 64 * 1024 * 1024) return answer(response, 413, { message: 'over 64 MiB' });
            return receiveTraces(request, response, Buffer.concat(chunks));
        }
        if (request.method === 'GET' && url.pathname === '/spans') return answer(response, 200, { spans });
        if (request.method === 'GET' && url.pathname === '/posts') {
            return answer(response, 200, { count: posts.length, statuses: posts.map((post) => post.status), posts });
        }
        if (request.method === 'DELETE' && url.pathname === '/spans') {
            spans.length = 0;
            posts.length = 0;
            return answer(response, 200, {});
        }
        answer(response, 404, { message: `no ${request.method} ${url.pathname} here` });
    });
});
// A hanging collector keeps its connections as long as the gateway does.
server.requestTimeout = 0;
server.headersTimeout = 60000;
server.keepAliveTimeout = 60000;
server.on('clientError', (error, socket) => socket.destroy());
server.listen(options.port, '127.0.0.1', () => {
    process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
