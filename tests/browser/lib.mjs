// lib.mjs - what the browser tests share: a parleyd started with --demo on a
// free port, Debian's chromium through playwright-core, and pages that load
// /sdk/parley.js and record every meeting event.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = "/usr/bin/chromium";
export const BUILD = process.env.PARLEY_BUILD || join(import.meta.dirname, "..", "..", "build");
export const SCREENSHOTS = join(BUILD, "screenshots");
export const INSECURE_HOST = "parley.test"; // mapped to 127.0.0.1; not a secure context

export const BASE_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--use-fake-device-for-media-stream",
];

let playwright = null;
try {
  playwright = await import("playwright-core");
} catch {
  playwright = null;
}

/** Why the suite cannot run here, or null. */
export function skipReason() {
  if (!playwright) return "playwright-core is not installed (npm ci in tests/browser)";
  if (!existsSync(CHROMIUM)) return "Debian's chromium is not installed";
  if (!existsSync(join(BUILD, "server", "parleyd"))) return "parleyd is not built";
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** parleyd (--demo unless demo is false) on a fresh data directory; stop() ends it. */
export async function startServer({ demo = true } = {}) {
  const data = mkdtempSync(join(tmpdir(), "parley-browser-"));
  const port = await freePort();
  const proc = spawn(join(BUILD, "server", "parleyd"),
    ["--listen", `127.0.0.1:${port}`, "--rtc-port", "0", "--data", data, ...(demo ? ["--demo"] : []), "--log-level", "error"],
    { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => { log += d; });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`parleyd exited: ${log}`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`parleyd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const post = async (path, body) => {
    const r = await fetch(origin + path, { method: "POST", body: JSON.stringify(body || {}) });
    const j = await r.json();
    if (!r.ok) throw new Error(`${path}: ${JSON.stringify(j)}`);
    return j;
  };
  return {
    origin, port,
    insecureOrigin: `http://${INSECURE_HOST}:${port}`,
    token: async (claims) => (await post("/demo/token", claims)).token,
    room: async (settings) => (await post("/demo/room", settings ? { settings } : {})).roomId,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
      rmSync(data, { recursive: true, force: true });
      if (/Sanitizer|runtime error:/.test(log)) throw new Error(`parleyd reported a sanitizer error:\n${log}`);
    },
    log: () => log,
  };
}

export async function launch(extraFlags = [], { fakeUi = true } = {}) {
  const args = [...BASE_FLAGS, ...(fakeUi ? ["--use-fake-ui-for-media-stream"] : []), ...extraFlags,
    `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`];
  return playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args, timeout: 30000 });
}

/** A page on origin with parley.js loaded as window.P and a recorder. */
export async function sdkPage(context, origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.evaluate(async () => {
    window.P = (await import("/sdk/parley.js")).Parley;
    window.events = [];
    const plain = (x) => (x && typeof x === "object" && "displayName" in x ? { id: x.id } : x);
    window.record = (m) => {
      for (const ev of ["meeting-joined", "meeting-left", "meeting-state-changed", "participant-joined",
        "participant-left", "error", "meeting-reconnected"])
        m.on(ev, (...a) => events.push({ ev, args: JSON.parse(JSON.stringify(a.map(plain))) }));
      for (const ev of ["stream-enabled", "stream-disabled"])
        m.localParticipant.on(ev, (s) => events.push({ ev, kind: s.kind, live: s.track.readyState === "live" }));
      return m;
    };
  });
  return page;
}

/** initMeeting(opts) in the page, recorded as window.m, joined; resolves
 * to {ok, code?} (whether join() resolved). */
export function joinIn(page, opts) {
  return page.evaluate(async (o) => {
    window.m = record(P.initMeeting(o));
    try {
      await m.join();
      return { ok: true };
    } catch (e) {
      return { ok: false, code: e.code };
    }
  }, opts);
}

/** Wait until the page's recorded events satisfy fn(events) (a string of a
 * function body over `events`), then return them. */
export async function waitEvents(page, predicate, timeout = 20000) {
  await page.waitForFunction(predicate, null, { timeout });
  return page.evaluate(() => events);
}

export const errorCodes = (events) => events.filter((e) => e.ev === "error").map((e) => e.args[0].code);

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}
