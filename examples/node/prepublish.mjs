#!/usr/bin/env node
// A scheduler's pre-publish hook for `igpreflight serve`, as a Node tool would write it:
// built-in fetch, FormData and Blob (Node 18+), no dependencies.
//
//   IGPREFLIGHT_URL=http://127.0.0.1:8080 IGPREFLIGHT_KEY=... node prepublish.mjs post.json
//
// post.json is a post in igpreflight's manifest shape. A media that is a local file
// ("media": ["photo.jpg"]) is uploaded first (POST /v1/media) and sent by its id;
// URLs (https://...) and ids (m_...) are sent as they are. Then POST /v1/check, and
// every finding is printed with the media it is about.
// Exit code: 0 the post is valid, 1 it has errors, 2 a usage or service error.
//
// With `--publish ACCOUNT` a valid post is then enqueued for publishing (POST /v1/posts,
// its Idempotency-Key a digest of the account and the file, so running this again for
// the same file is the same post, never a second) and the script waits for its end:
// the signed webhook when IGPF_WEBHOOK_SECRET and IGPF_WEBHOOK_PORT are set (the
// service's webhooks file must point at http://HOST:IGPF_WEBHOOK_PORT/), else polling
// GET /v1/posts/{id}. IGPF_WAIT_SECONDS (default 600) bounds the wait.
// Exit code then: 0 published, 1 failed (or cancelled, a duplicate), 3 held (Instagram's
// quota: the service publishes it later), 2 no end within the wait.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { basename, dirname, resolve } from "node:path";

import { verifyWebhook } from "./webhook-receiver.mjs";

const BASE = (process.env.IGPREFLIGHT_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const KEY = process.env.IGPREFLIGHT_KEY ?? "";

class ServiceError extends Error {}

/** One call to the service; a problem+json answer becomes a ServiceError. */
async function request(path, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (KEY) headers.authorization = `Bearer ${KEY}`;
  let response;
  try {
    response = await fetch(`${BASE}${path}`, { ...init, headers });
  } catch (error) {
    throw new ServiceError(`cannot reach ${BASE}: ${error.cause?.message ?? error.message}`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ServiceError(problemText(response, body));
  return body;
}

/** RFC 9457 problem details in one line. */
function problemText(response, body) {
  if (body && body.detail) return `${response.status} ${body.title}: ${body.detail}`;
  return `${response.status} ${response.statusText}`;
}

// "1 error, 2 warnings", as igpreflight's own summaries count.
const count = (list, noun) => `${list.length} ${noun}${list.length === 1 ? "" : "s"}`;
const isLocalFile = (ref) => typeof ref === "string" && !ref.includes("://") && !/^m_[\w-]{22}$/.test(ref);

/** Upload one local file; returns its media id. */
export async function uploadMedia(path) {
  const form = new FormData();
  form.append("file", new Blob([await readFile(path)]), basename(path));
  const media = await request("/v1/media", { method: "POST", body: form });
  return media.id;
}

/** Local files of a post (its media and cover) uploaded and replaced by their ids. */
export async function withUploadedMedia(post, folder) {
  const swap = async (ref) => (isLocalFile(ref) ? uploadMedia(resolve(folder, ref)) : ref);
  const media = [];
  for (const ref of post.media) media.push(await swap(ref));
  const out = { ...post, media };
  if (post.cover !== undefined) out.cover = await swap(post.cover);
  return out;
}

/** The service's findings for a post: {valid, errors, warnings, info}. */
export async function checkPost(post, options = {}) {
  return request("/v1/check", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ post, ...options }),
  });
}

/** The findings as a scheduler would show them to the person who wrote the post. */
export function showFindings(result, post) {
  const where = (f) => (f.item === null ? (f.media ? "cover" : "post") : `media ${f.item + 1}`);
  for (const f of [...result.errors, ...result.warnings, ...result.info]) {
    const codes = [f.code, f.subcode].filter((c) => c !== null);
    const graph = codes.length ? ` (Graph ${codes.join("/")})` : "";
    console.log(`${f.severity.padEnd(7)} ${f.rule} ${where(f)}: ${f.message}${graph}`);
    if (f.hint) console.log(`        hint: ${f.hint}`);
  }
  const verdict = result.valid ? "ready to publish" : "not publishable as is";
  console.log(`${post.id ?? result.id}: ${verdict} (${count(result.errors, "error")}, ${count(result.warnings, "warning")})`);
}

/** Enqueue a checked post; the same idempotency key always answers the same post. */
export async function enqueuePost(post, account, idempotencyKey) {
  return request("/v1/posts", {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
    body: JSON.stringify({ ...post, account }),
  });
}

const ENDS = { published: 0, failed: 1, cancelled: 1, duplicate: 1, held: 3 };

/** Listen for the service's signed webhooks; `ended(postId)` resolves with the event
 * that ends that post. Deliveries are at least once: deduped on their webhook-id. */
export function listenForWebhooks(port, secret) {
  const seen = new Set();
  const events = new Map();
  const waiting = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      let event;
      try {
        event = verifyWebhook(secret, req.headers, Buffer.concat(chunks));
      } catch {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(204).end();
      const id = req.headers["webhook-id"];
      if (seen.has(id)) return;
      seen.add(id);
      const postId = event.data?.post_id;
      events.set(postId, event);
      waiting.get(postId)?.(event);
    });
  });
  const ready = new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  return {
    ready,
    ended: (postId) =>
      events.has(postId)
        ? Promise.resolve(events.get(postId))
        : new Promise((ok) => waiting.set(postId, ok)),
    close: () => server.close(),
  };
}

/** Poll a post until its state is an end (the fallback without webhooks). */
async function pollUntilEnded(postId) {
  for (;;) {
    const post = await request(`/v1/posts/${postId}`);
    if (post.state in ENDS) return post;
    await new Promise((ok) => setTimeout(ok, 2000));
  }
}

/** Publish a checked post and wait for how it ended; returns the exit code. */
async function publish(sent, account, raw) {
  const key = createHash("sha256").update(`${account}\n`).update(raw).digest("hex").slice(0, 40);
  const secret = process.env.IGPF_WEBHOOK_SECRET;
  const port = process.env.IGPF_WEBHOOK_PORT;
  const hooks = secret && port ? listenForWebhooks(Number(port), secret) : null;
  if (hooks) await hooks.ready; // listening before the post exists: no event is missed
  const seconds = Number(process.env.IGPF_WAIT_SECONDS ?? 600);
  let timer;
  try {
    const post = await enqueuePost(sent, account, key);
    console.log(`${post.id}: enqueued for ${account} (${post.state})`);
    // Sent before (the same file): the answer is that post, maybe ended long ago.
    const ended =
      post.state in ENDS
        ? Promise.resolve(post)
        : hooks
          ? hooks.ended(post.id).then((event) => event.data)
          : pollUntilEnded(post.id);
    const timeout = new Promise((ok) => (timer = setTimeout(() => ok(null), seconds * 1000)));
    const end = await Promise.race([ended, timeout]);
    if (end === null) {
      console.error(`prepublish: error: post ${post.id} did not end within ${seconds} s`);
      return 2;
    }
    const detail = end.media_id
      ? `media ${end.media_id}`
      : end.until
        ? `until ${end.until}`
        : (end.error ?? "");
    console.log(`${post.id}: ${end.state}${detail ? ` (${detail})` : ""}`);
    return ENDS[end.state] ?? 1;
  } finally {
    clearTimeout(timer);
    hooks?.close();
  }
}

async function main(argv) {
  const at = argv.indexOf("--publish");
  const account = at >= 0 ? argv[at + 1] : null;
  const files = at >= 0 ? argv.filter((_, i) => i !== at && i !== at + 1) : argv;
  if (files.length !== 1 || (at >= 0 && !account)) {
    console.error("usage: node prepublish.mjs POST.json [--publish ACCOUNT]");
    return 2;
  }
  const file = resolve(files[0]);
  const raw = await readFile(file, "utf8");
  const post = JSON.parse(raw);
  const sent = await withUploadedMedia(post, dirname(file));
  const result = await checkPost(sent);
  showFindings(result, post);
  if (!result.valid) return 1;
  return account ? publish(sent, account, raw) : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`prepublish: error: ${error instanceof ServiceError ? error.message : error}`);
      process.exit(2);
    },
  );
}
