#!/usr/bin/env node
// A receiver for the webhooks of `igpreflight serve`, as a Node service would write it:
// node:http and node:crypto, no dependencies.
//
//   IGPF_WEBHOOK_SECRET=whsec_... PORT=8787 node webhook-receiver.mjs
//
// Each verified event is printed once as a JSON line on stdout ({"id", "type",
// "timestamp", "data"}); a forged or stale delivery is answered 401 and named on stderr.
// Deliveries are at least once: the same event comes again with the same webhook-id
// when an answer is lost, so it is deduped on that id. `verifyWebhook` is the part to
// copy into a scheduler (an Express or NestJS route must hand it the raw body bytes).

import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

const TOLERANCE = 5 * 60; // seconds a webhook-timestamp may be off (Standard Webhooks)
const MAX_BODY = 1024 * 1024;

/** The event of a delivery whose signature checks out under `secret`; throws otherwise. */
export function verifyWebhook(secret, headers, rawBody, now = Date.now() / 1000) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) throw new Error("missing webhook headers");
  const sent = Number(timestamp);
  if (!Number.isInteger(sent) || Math.abs(now - sent) > TOLERANCE) {
    throw new Error("webhook-timestamp too old or too new");
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(rawBody).digest();
  for (const versioned of signatures.split(" ")) {
    const [version, signature] = versioned.split(",", 2);
    if (version !== "v1" || !signature) continue;
    const given = Buffer.from(signature, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      return JSON.parse(rawBody.toString("utf8"));
    }
  }
  throw new Error("no matching signature");
}

function receive(secret, port) {
  const seen = new Set();
  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on("end", () => {
      let event;
      try {
        event = verifyWebhook(secret, req.headers, Buffer.concat(chunks));
      } catch (error) {
        console.error(`refused: ${error.message}`);
        res.writeHead(401).end();
        return;
      }
      const id = req.headers["webhook-id"];
      if (!seen.has(id)) {
        seen.add(id);
        console.log(JSON.stringify({ id, ...event }));
      }
      res.writeHead(204).end(); // answer fast; do the work after
    });
  });
  server.listen(port, "127.0.0.1", () => {
    console.error(`listening on http://127.0.0.1:${server.address().port}/`);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const secret = process.env.IGPF_WEBHOOK_SECRET ?? "";
  if (!secret.startsWith("whsec_")) {
    console.error("set IGPF_WEBHOOK_SECRET to the endpoint's whsec_... secret");
    process.exit(2);
  }
  receive(secret, Number(process.env.PORT ?? 8787));
}
