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
// Phase 2 of the service adds publishing: after a valid check, `enqueuePost` (POST
// /v1/posts with an Idempotency-Key) and a wait for the signed webhook will follow
// `checkPost` in main(), reusing `request` and `problemText`.

import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";

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
  console.log(`${post.id ?? result.id}: ${verdict} (${result.errors.length} errors, ${result.warnings.length} warnings)`);
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error("usage: node prepublish.mjs POST.json");
    return 2;
  }
  const file = resolve(argv[0]);
  const post = JSON.parse(await readFile(file, "utf8"));
  const sent = await withUploadedMedia(post, dirname(file));
  const result = await checkPost(sent);
  showFindings(result, post);
  return result.valid ? 0 : 1;
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
