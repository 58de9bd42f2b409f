// parley.test.mjs - parley.js in Debian's chromium against a real parleyd:
// server codes reaching the browser, device errors mapped to the web
// profile, reconnection, and the demo page (screenshots in build/screenshots).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  errorCodes, joinIn, launch, screenshotPath, sdkPage, skipReason, startServer, waitEvents,
} from "./lib.mjs";

const skip = skipReason() || undefined; // node 20 treats a present null as "skip"
let server, browser, denied, noCamera;

before(async () => {
  if (skip) return;
  server = await startServer();
  // The default browser: fake devices, permission prompts accepted.
  browser = await launch();
  // Prompts not auto-accepted, and the context grants nothing: NotAllowedError.
  denied = await launch([], { fakeUi: false });
  // A fake capture backend with no camera at all.
  noCamera = await launch(["--use-fake-device-for-media-stream=device-count=0"]);
});

after(async () => {
  for (const b of [browser, denied, noCamera]) await b?.close();
  await server?.stop();
});

async function joined(ctx, opts = {}) {
  const page = await sdkPage(ctx, opts.origin || server.origin);
  const meetingId = opts.meetingId || (await server.room());
  const token = opts.token || (await server.token({}));
  const r = await joinIn(page, { meetingId, participantId: opts.participantId, name: opts.name || "tester", token,
    customCameraVideoTrack: undefined });
  return { page, meetingId, token, r };
}

// provokes 4005
test("a second tab with the same participantId replaces the first: 4005, then meeting-left 1011", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const meetingId = await server.room();
  const token = await server.token({});
  const a = await joined(ctx, { meetingId, token, participantId: "same-id" });
  assert.ok(a.r.ok);
  const b = await joined(ctx, { meetingId, token, participantId: "same-id" });
  assert.ok(b.r.ok, "the newer tab joins");
  const ev = await waitEvents(a.page, () => events.some((e) => e.ev === "meeting-left"));
  const err = ev.findIndex((e) => e.ev === "error" && e.args[0].code === 4005);
  const left = ev.findIndex((e) => e.ev === "meeting-left");
  assert.ok(err >= 0, "4005 reaches the first tab");
  assert.equal(ev[err].args[0].name, "DUPLICATE_PARTICIPANT");
  assert.ok(err < left, "the error comes before meeting-left");
  assert.equal(ev[left].args[0].code, 1011);
  await ctx.close();
});

// provokes 4009
test("a room with maxParticipants 1 refuses the second joiner with 4009", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const meetingId = await server.room({ maxParticipants: 1 });
  const a = await joined(ctx, { meetingId });
  assert.ok(a.r.ok);
  const b = await joined(ctx, { meetingId });
  assert.deepEqual(b.r, { ok: false, code: 4009 });
  const ev = await waitEvents(b.page, () => events.some((e) => e.ev === "meeting-left"));
  assert.deepEqual(errorCodes(ev), [4009]);
  assert.equal(ev.find((e) => e.ev === "meeting-left").args[0].code, 1103);
  assert.ok(ev.some((e) => e.ev === "meeting-state-changed" && e.args[0].state === "FAILED"));
  await ctx.close();
});

// provokes 4002
test("a token that is not a valid JWT is refused with 4002", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const b = await joined(ctx, { token: "not.a-valid.token" });
  assert.deepEqual(b.r, { ok: false, code: 4002 });
  const ev = await b.page.evaluate(() => events);
  assert.deepEqual(errorCodes(ev), [4002]);
  await ctx.close();
});

// provokes 3035 web
test("an in-meeting action before meeting-joined emits and rejects 3035", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const page = await sdkPage(ctx, server.origin);
  const meetingId = await server.room();
  const out = await page.evaluate(async (id) => {
    window.m = record(P.initMeeting({ meetingId: id, name: "early" }));
    const codes = [];
    for (const call of [() => m.enableWebcam(), () => m.unmuteMic(), () => m.lock(), () => m.changeMode("VIEWER")])
      await call().then(() => codes.push("resolved"), (e) => codes.push(e.code));
    return codes;
  }, meetingId);
  assert.deepEqual(out, [3035, 3035, 3035, 3035]);
  assert.deepEqual(errorCodes(await page.evaluate(() => events)), [3035, 3035, 3035, 3035]);
  await ctx.close();
});

// provokes 3031 web
// provokes 3032 web
test("custom tracks already ended give 3031/3032, then the default devices are used", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const page = await sdkPage(ctx, server.origin);
  const meetingId = await server.room();
  const token = await server.token({});
  const r = await page.evaluate(async ({ meetingId, token }) => {
    const s = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    s.getTracks().forEach((t) => t.stop());
    window.m = record(P.initMeeting({ meetingId, token, name: "custom",
      customCameraVideoTrack: s.getVideoTracks()[0], customMicrophoneAudioTrack: s }));
    await m.join();
    await m.enableWebcam();
    await m.unmuteMic();
    return [...m.localParticipant.streams.values()].map((x) => `${x.kind}:${x.track.readyState}`).sort();
  }, { meetingId, token });
  assert.deepEqual(r, ["audio:live", "video:live"]);
  assert.deepEqual(errorCodes(await page.evaluate(() => events)), [3031, 3032]);
  await ctx.close();
});

// provokes 3029 web
// provokes 3030 web
test("custom tracks that are not live tracks of the right kind give 3029/3030, then the default devices", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const { page } = await joined(ctx);
  const r = await page.evaluate(async () => {
    const audio = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0];
    await m.enableWebcam(audio); // an audio track offered as the camera
    await m.unmuteMic({ kind: "audio" }); // not a MediaStreamTrack at all
    return [...m.localParticipant.streams.values()].map((x) => `${x.kind}:${x.track.readyState}`).sort();
  });
  assert.deepEqual(r, ["audio:live", "video:live"]);
  assert.deepEqual(errorCodes(await page.evaluate(() => events)), [3029, 3030]);
  await ctx.close();
});

// provokes 3027 web injected
// provokes 3028 web injected
test("published tracks that end mid-call give 3027/3028 and stream-disabled", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const { page } = await joined(ctx);
  // A fake capture device cannot be unplugged and track.stop() fires no
  // 'ended', so the browser's own event is dispatched on the live tracks.
  await page.evaluate(async () => {
    await m.enableWebcam();
    await m.unmuteMic();
    for (const kind of ["video", "audio"]) m.localParticipant.streams.get(kind).track.dispatchEvent(new Event("ended"));
  });
  const ev = await waitEvents(page, () => events.filter((e) => e.ev === "stream-disabled").length === 2);
  assert.deepEqual(errorCodes(ev), [3027, 3028]);
  assert.equal(await page.evaluate(() => m.localParticipant.streams.size), 0);
  await ctx.close();
});

// provokes 3017 web
// provokes 3018 web
test("camera and microphone permission denied give 3017/3018", { skip, timeout: 30000 }, async () => {
  const ctx = await denied.newContext({ permissions: [] });
  const { page, r } = await joined(ctx);
  assert.ok(r.ok);
  const codes = await page.evaluate(async () => {
    const out = [];
    await m.enableWebcam().catch((e) => out.push(e.code));
    await m.unmuteMic().catch((e) => out.push(e.code));
    return out;
  });
  assert.deepEqual(codes, [3017, 3018]);
  assert.deepEqual(errorCodes(await page.evaluate(() => events)), [3017, 3018]);
  await ctx.close();
});

// provokes 3021 web
test("no camera at all gives 3021", { skip, timeout: 30000 }, async () => {
  const ctx = await noCamera.newContext();
  const { page } = await joined(ctx);
  const code = await page.evaluate(() => m.enableWebcam().then(() => 0, (e) => e.code));
  assert.equal(code, 3021);
  assert.deepEqual(errorCodes(await page.evaluate(() => events)), [3021]);
  await ctx.close();
});

// provokes 3022 web injected
test("no microphone gives 3022", { skip, timeout: 30000 }, async () => {
  const ctx = await noCamera.newContext();
  const { page } = await joined(ctx);
  // The fake capture backend always offers a microphone: getUserMedia is
  // made to reject the way Chromium does when none is connected.
  const code = await page.evaluate(() => {
    navigator.mediaDevices.getUserMedia = async () => {
      throw new DOMException("Requested device not found", "NotFoundError");
    };
    return m.unmuteMic().then(() => 0, (e) => e.code);
  });
  assert.equal(code, 3022);
  await ctx.close();
});

// provokes 3033 web
// provokes 3034 web
test("an insecure origin (no navigator.mediaDevices) gives 3033/3034", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const { page, r } = await joined(ctx, { origin: server.insecureOrigin });
  assert.ok(r.ok, "signaling works from the insecure origin");
  const out = await page.evaluate(async () => {
    const codes = [];
    await m.enableWebcam().catch((e) => codes.push(e.code));
    await m.unmuteMic().catch((e) => codes.push(e.code));
    return { codes, secure: isSecureContext, md: typeof navigator.mediaDevices };
  });
  assert.deepEqual(out, { codes: [3033, 3034], secure: false, md: "undefined" });
  await ctx.close();
});

test("a dropped signaling connection reconnects with the secret", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const meetingId = await server.room();
  const a = await joined(ctx, { meetingId, name: "stays" });
  const b = await joined(ctx, { meetingId, name: "drops" });
  await waitEvents(a.page, () => events.some((e) => e.ev === "participant-joined"));
  await b.page.evaluate(() => m._ws.close());
  const ev = await waitEvents(b.page, () => events.some((e) => e.ev === "meeting-reconnected"));
  const states = ev.filter((e) => e.ev === "meeting-state-changed").map((e) => e.args[0].state);
  assert.deepEqual(states, ["CONNECTING", "CONNECTED", "RECONNECTING", "CONNECTED"]);
  assert.ok(!ev.some((e) => e.ev === "meeting-left"));
  // The other participant saw no one leave, and the meeting still works.
  assert.ok(!(await a.page.evaluate(() => events)).some((e) => e.ev === "participant-left"));
  assert.equal(await b.page.evaluate(() => m.lock().then(() => "locked")), "locked");
  await ctx.close();
});

test("leave() ends with meeting-left 1101 and the others see participant-left", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const meetingId = await server.room();
  const a = await joined(ctx, { meetingId, name: "stays" });
  const b = await joined(ctx, { meetingId, name: "goes" });
  await waitEvents(a.page, () => events.some((e) => e.ev === "participant-joined"));
  await b.page.evaluate(() => m.leave());
  const left = (await b.page.evaluate(() => events)).find((e) => e.ev === "meeting-left").args[0];
  assert.equal(left.code, 1101);
  const ev = await waitEvents(a.page, () => events.some((e) => e.ev === "participant-left"));
  assert.ok(ev.some((e) => e.ev === "participant-left" && e.args[1].code === 1101));
  await ctx.close();
});

test("an ask_join participant waits, the host gets entry-requested and allow() admits it", { skip, timeout: 30000 }, async () => {
  const ctx = await browser.newContext();
  const meetingId = await server.room();
  const host = await joined(ctx, { meetingId, name: "host" });
  await host.page.evaluate(() => m.on("entry-requested", (r) => { events.push({ ev: "entry-requested", name: r.name }); r.allow(); }));
  const guest = await sdkPage(ctx, server.origin);
  const token = await server.token({ permissions: ["ask_join"] });
  const r = await joinIn(guest, { meetingId, name: "guest", token });
  assert.deepEqual(r, { ok: true });
  const ev = await waitEvents(host.page, () => events.some((e) => e.ev === "participant-joined"));
  assert.ok(ev.some((e) => e.ev === "entry-requested" && e.name === "guest"));
  await ctx.close();
});

test("reconnection attempts used up end the meeting with 1102", { skip, timeout: 30000 }, async () => {
  const own = await startServer(); // this test stops it
  try {
    const ctx = await browser.newContext();
    const page = await sdkPage(ctx, server.origin);
    const meetingId = await own.room();
    const token = await own.token({});
    const r = await page.evaluate(async (o) => {
      window.m = record(P.initMeeting(o));
      await m.join();
      return m.state;
    }, { meetingId, token, name: "lost", url: own.origin, reconnect: { attempts: 3, minMs: 100, maxMs: 400 } });
    assert.equal(r, "CONNECTED");
    await own.stop();
    const ev = await waitEvents(page, () => events.some((e) => e.ev === "meeting-left"));
    const states = ev.filter((e) => e.ev === "meeting-state-changed").map((e) => e.args[0].state);
    assert.deepEqual(states, ["CONNECTING", "CONNECTED", "RECONNECTING", "FAILED"]);
    const left = ev.find((e) => e.ev === "meeting-left").args[0];
    assert.equal(left.code, 1102);
    assert.equal(left.name, "WEBSOCKET_CONNECTION_ATTEMPTS_EXHAUSTED");
    await ctx.close();
  } finally {
    await own.stop();
  }
});

test("the demo page: join from the form, see yourself, errors listed with code and name", { skip, timeout: 40000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${server.origin}/`);
  await page.fill("#name", "Ada Lovelace");
  await page.screenshot({ path: screenshotPath("demo-join.png") });
  await page.click("#join-btn");
  await page.waitForSelector(".tile video", { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector("#status").dataset.state === "CONNECTED");
  const room = await page.inputValue("#room");
  // A second person in the same room, so the grid and the list have two.
  const other = await ctx.newPage();
  await other.goto(`${server.origin}/?room=${room}`);
  await other.fill("#name", "Grace Hopper");
  await other.uncheck("#cam-on");
  await other.uncheck("#mic-on");
  await other.click("#join-btn");
  await page.waitForFunction(() => document.querySelectorAll(".tile").length === 2);
  await page.waitForFunction(() => document.querySelector(".tile video")?.readyState >= 2);
  await page.screenshot({ path: screenshotPath("demo-meeting.png") });

  // The same page on an insecure origin: the camera and microphone asked
  // for at join fail, and the panel lists both errors.
  const bad = await ctx.newPage();
  await bad.goto(`${server.insecureOrigin}/?room=${room}`);
  await bad.fill("#name", "Insecure Origin");
  await bad.click("#join-btn");
  await bad.waitForFunction(() => document.querySelectorAll("#error-list li").length === 2);
  const codes = await bad.$$eval("#error-list li", (lis) => lis.map((li) => Number(li.dataset.code)).sort());
  assert.deepEqual(codes, [3033, 3034]);
  await bad.screenshot({ path: screenshotPath("demo-error.png") });
  await ctx.close();
});
