// static.test.mjs - parleyd's web root (server/static.c) and its demo
// endpoints, over plain HTTP: types, paths that must not be served, and
// --demo being off by default.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { BUILD, startServer } from "./lib.mjs";

const skip = existsSync(join(BUILD, "server", "parleyd")) ? undefined : "parleyd is not built";
let demo, plain;

before(async () => {
  if (skip) return;
  [demo, plain] = await Promise.all([startServer(), startServer({ demo: false })]);
});
after(async () => {
  await demo?.stop();
  await plain?.stop();
});

test("the demo page, parley.js and errors.js are served with their types", { skip }, async () => {
  for (const [path, type, text] of [
    ["/", "text/html", "<title>Parley</title>"],
    ["/demo.js", "application/javascript", "/sdk/parley.js"],
    ["/demo.css", "text/css", ".tile"],
    ["/sdk/parley.js", "application/javascript", "export const Parley"],
    ["/sdk/errors.js", "application/javascript", "export const errors"],
  ]) {
    const r = await fetch(plain.origin + path);
    assert.equal(r.status, 200, path);
    assert.ok(r.headers.get("content-type").startsWith(type), `${path}: ${r.headers.get("content-type")}`);
    assert.ok((await r.text()).includes(text), path);
  }
  // The bundle is one module: no import left in it.
  const js = await (await fetch(plain.origin + "/sdk/parley.js")).text();
  assert.ok(!/^import /m.test(js));
});

test("paths outside the web root, hidden files and unknown files are not served", { skip }, async () => {
  for (const path of ["/../meson.build", "/%2e%2e/meson.build", "/.hidden", "/nothing-here.js", "/sdk"]) {
    const r = await fetch(plain.origin + path);
    assert.equal(r.status, 404, path);
    assert.equal((await r.json()).code, 999, path);
  }
  // REST is untouched by the web root.
  assert.deepEqual(await (await fetch(plain.origin + "/healthz")).json(), { ok: true });
});

test("the demo endpoints answer 999/404 unless parleyd runs with --demo", { skip }, async () => {
  for (const path of ["/demo/token", "/demo/room"]) {
    const r = await fetch(plain.origin + path, { method: "POST", body: "{}" });
    assert.equal(r.status, 404, path);
    assert.equal((await r.json()).code, 999);
  }
  const room = await demo.room({ maxParticipants: 2 });
  assert.match(room, /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
  const token = await demo.token({ roomId: room, participantId: "ada", permissions: ["ask_join"] });
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
  assert.deepEqual([claims.roomId, claims.participantId, claims.permissions, claims.version], [room, "ada", ["ask_join"], 2]);
  const bad = await fetch(demo.origin + "/demo/token", { method: "POST", body: JSON.stringify({ permissions: ["root"] }) });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).code, 803);
});
