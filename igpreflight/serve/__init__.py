"""`igpreflight serve`: the checker, fixer and catalog over HTTP, for tools in any language.

Every endpoint is a thin shell over `igpreflight.api`, as the CLI's commands are:
routes parse and authorise, the API does the work, and the answers carry the
same findings the CLI prints. Rooms, one job each:

- `settings`: what `serve` was started with (travels to worker processes as JSON);
- `keys`, `auth`, `limits`, `problems`: who may call, how much, and how refusals look
  (RFC 9457 problem+json);
- `store`, `uploads`: media uploaded or fetched, on disk, shared by every worker;
- `checking`, `fixing`, `jobs`: requests into API calls and results into answers;
- `routes/`: the HTTP surface; `app`: assembles it.

Phase 2 (publishing) adds `/v1/posts` and webhooks on the durable publish core as
new routers beside these; `jobs.JobRunner` is the seam durable jobs plug into.
"""
