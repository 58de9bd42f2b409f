// sdk-restore.test.mjs - parley.js media that must come back, and the screen
// share, through parleyd in Debian's chromium with fake devices: two demo
// pages see each other; a dropped signaling connection (either side) or a
// failed media connection is followed by fresh exchanges whose frames are
// decoded again, with no error event; a screen share (getDisplayMedia, the
// fake capture backend's screen) reaches the other page as a stream of kind
// "share", shown in a tile of its own, and stops again.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, screenshotPath, skipReason, startServer } from "./lib.mjs";

const skip = skipReason() || undefined;
let server, browser;

before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch(["--allow-loopback-in-peer-connection"]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function demoJoin(ctx, name, room) {
  const page = await ctx.newPage();
  await page.goto(`${server.origin}/${room ? `?room=${room}` : ""}`);
  await page.fill("#name", name);
  await page.click("#join-btn");
  await page.waitForFunction(() => document.querySelector("#status").dataset.state === "CONNECTED", null, { timeout: 20000 });
  await page.evaluate(() => {
    window.log = [];
    const m = window.parleyMeeting;
    for (const ev of ["meeting-reconnected", "error", "stream-enabled", "stream-disabled"])
      m.on(ev, (e) => log.push({ ev, code: e && e.code, kind: e && e.kind, source: e && e.source }));
    const watch = (p) => {
      for (const ev of ["stream-enabled", "stream-disabled"]) p.on(ev, (s) => log.push({ ev: `p:${ev}`, id: p.id, kind: s.kind }));
    };
    m.participants.forEach(watch);
    m.on("participant-joined", watch);
  });
  return page;
}

/** Ada and Grace in one meeting on the demo page, Grace decoding Ada's
 * camera (b0: what decoded() returned). */
async function adaAndGrace() {
  const ctx = await browser.newContext();
  const a = await demoJoin(ctx, "Ada");
  const b = await demoJoin(ctx, "Grace", await a.inputValue("#room"));
  const ida = await a.evaluate(() => parleyMeeting.localParticipant.id);
  return { ctx, a, b, ida, b0: await decoded(b, ida) };
}

/** Wait until the page's subscription to `id`, on a connection other than
 * the one numbered `not`, decodes more than `frames` frames on `kinds`
 * video tracks; returns {frames (the sum), tracks, pc (the connection's
 * number, in order of first sight)}. */
async function decoded(page, id, { frames = 10, not = -1, kinds = 1 } = {}) {
  const deadline = Date.now() + 25000;
  let last = null;
  while (Date.now() < deadline) {
    last = await page.evaluate(async ({ id, frames }) => {
      const pc = window.parleyMeeting.peerConnections().subscriptions.get(id);
      if (!pc) return null;
      window.pcs = window.pcs || [];
      if (!pcs.includes(pc)) pcs.push(pc);
      let sum = 0, tracks = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type !== "inbound-rtp" || s.kind !== "video") return;
        sum += s.framesDecoded || 0;
        if (s.framesDecoded > frames) tracks++;
      });
      return { frames: sum, tracks, pc: pcs.indexOf(pc) };
    }, { id, frames });
    if (last && last.pc !== not && last.tracks >= kinds) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${kinds} decoded video track(s) from ${id} on a connection other than #${not}: ${JSON.stringify(last)}`);
}

const errorsOf = (page) => page.evaluate(() => log.filter((e) => e.ev === "error").map((e) => e.code));

test("after a dropped signaling connection media is negotiated afresh and decoded again, no 303", { skip, timeout: 120000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const a = await demoJoin(ctx, "Ada Lovelace");
  const room = await a.inputValue("#room");
  const b = await demoJoin(ctx, "Grace Hopper", room);
  const ida = await a.evaluate(() => parleyMeeting.localParticipant.id);
  const idb = await b.evaluate(() => parleyMeeting.localParticipant.id);
  const b0 = await decoded(b, ida);
  const a0 = await decoded(a, idb);

  // The publisher's signaling connection drops: it reconnects, the server
  // ends the old connection's media, and both directions are negotiated again.
  await a.evaluate(() => parleyMeeting._ws.close());
  await a.waitForFunction(() => log.some((e) => e.ev === "meeting-reconnected"), null, { timeout: 20000 });
  const b1 = await decoded(b, ida, { not: b0.pc });
  const a1 = await decoded(a, idb, { not: a0.pc });
  assert.ok(b1.frames > 10 && a1.frames > 10, JSON.stringify({ b0, a0, b1, a1 }));
  const seen = await b.evaluate((id) => log.filter((e) => e.id === id).map((e) => `${e.ev} ${e.kind}`), ida);
  assert.ok(seen.includes("p:stream-disabled video") && seen.lastIndexOf("p:stream-enabled video") > seen.indexOf("p:stream-disabled video"),
    `Grace sees Ada's video disabled, then enabled again: ${seen}`);

  // The subscriber's connection drops: its subscriptions come back.
  await b.evaluate(() => parleyMeeting._ws.close());
  await b.waitForFunction(() => log.some((e) => e.ev === "meeting-reconnected"), null, { timeout: 20000 });
  const b2 = await decoded(b, ida, { not: b1.pc });
  assert.ok(b2.frames > 10);
  await decoded(a, idb, { not: a1.pc });
  // Both drop at once.
  await Promise.all([a, b].map((p) => p.evaluate(() => parleyMeeting._ws.close())));
  await decoded(b, ida, { not: b2.pc });
  for (const page of [a, b]) {
    assert.deepEqual(await errorsOf(page), [], "no error event (in particular no 303)");
    assert.equal(await page.$$eval("#error-list li", (l) => l.length), 0);
  }
  // The tiles play the new tracks.
  const frames = await b.waitForFunction((id) => {
    const v = document.querySelector(`.tile[data-id="${CSS.escape(id)}"] video`);
    return v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 5 && v.getVideoPlaybackQuality().totalVideoFrames;
  }, ida, { timeout: 15000 }).then((h) => h.jsonValue());
  assert.ok(frames > 5);
  await ctx.close();
});

test("a media connection whose ICE fails is replaced, and frames are decoded again", { skip, timeout: 90000 }, async () => {
  const { ctx, a, b, ida, b0 } = await adaAndGrace();
  // A real ICE failure cannot be caused on one machine: the connection is
  // made to report `failed` (injected), as Chromium does when consent ends.
  const fail = (pc) => {
    Object.defineProperty(pc, "iceConnectionState", { get: () => "failed" });
    pc.dispatchEvent(new Event("iceconnectionstatechange"));
  };
  // The subscription: unsubscribed and subscribed again.
  await b.evaluate(({ id, f }) => (0, eval)(f)(parleyMeeting.peerConnections().subscriptions.get(id)), { id: ida, f: `(${fail})` });
  const b1 = await decoded(b, ida, { not: b0.pc });
  // The publication: unpublished and offered again; Grace subscribes again.
  await a.evaluate((f) => (0, eval)(f)(parleyMeeting.peerConnections().publish), `(${fail})`);
  const b2 = await decoded(b, ida, { not: b1.pc });
  assert.ok(b2.frames > 10);
  for (const page of [a, b]) assert.deepEqual(await errorsOf(page), [], "no error event");
  await ctx.close();
});

test("a media connection whose ICE fails for a moment is restarted on the same connection", { skip, timeout: 90000 }, async () => {
  const { ctx, a, b, ida, b0 } = await adaAndGrace();
  // One `failed` reported (injected), then the connection's own state
  // again: the ICE restart brings it back, so it is not replaced.
  const blip = (pc) => {
    Object.defineProperty(pc, "iceConnectionState", { get: () => "failed", configurable: true });
    pc.dispatchEvent(new Event("iceconnectionstatechange"));
    delete pc.iceConnectionState;
  };
  const restarted = async (page, get) => {
    const before = await page.evaluate((g) => /a=ice-ufrag:(\S+)/.exec((0, eval)(g)().remoteDescription.sdp)[1], get);
    await page.evaluate(({ g, f }) => (0, eval)(f)((0, eval)(g)()), { g: get, f: `(${blip})` });
    const after = await page.waitForFunction(({ g, before }) => {
      const pc = (0, eval)(g)();
      const u = pc && /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription.sdp)[1];
      return u && u !== before && ["connected", "completed"].includes(pc.iceConnectionState) && u;
    }, { g: get, before }, { timeout: 15000 }).then((h) => h.jsonValue());
    return { before, after };
  };
  // The subscription: subscribe {iceRestart: true}, a new subscribe-offer.
  const sub = await restarted(b, `() => parleyMeeting.peerConnections().subscriptions.get(${JSON.stringify(ida)})`);
  assert.notEqual(sub.after, sub.before);
  const b1 = await decoded(b, ida, { frames: b0.frames + 30 });
  assert.equal(b1.pc, b0.pc, "the same connection");
  // The publication: restartIce and publish-offer {iceRestart: true}.
  const pub = await restarted(a, "() => parleyMeeting.peerConnections().publish");
  assert.notEqual(pub.after, pub.before);
  const b2 = await decoded(b, ida, { frames: b1.frames + 30 });
  assert.equal(b2.pc, b0.pc, "the subscription goes on");
  for (const page of [a, b]) assert.deepEqual(await errorsOf(page), [], "no error event");
  const disabled = await b.evaluate(() => log.filter((e) => e.ev === "stream-disabled" || e.ev === "p:stream-disabled").length);
  assert.equal(disabled, 0, "the streams were never disabled");
  await ctx.close();
});

test("a screen share reaches the other page as kind share, in a tile of its own, and stops", { skip, timeout: 90000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const a = await demoJoin(ctx, "Ada Lovelace");
  const room = await a.inputValue("#room");
  const b = await demoJoin(ctx, "Grace Hopper", room);
  const ida = await a.evaluate(() => parleyMeeting.localParticipant.id);
  await decoded(b, ida);

  await a.click("#screen-btn");
  await a.waitForFunction(() => parleyMeeting.localParticipant.streams.has("share") &&
    document.querySelector("#screen-btn").dataset.on === "true" && document.querySelector(".tile[data-share] video"));
  assert.ok((await a.evaluate(() => log)).length >= 0);
  // Grace: camera and screen are two decoded video tracks; the screen is "share".
  await decoded(b, ida, { kinds: 2 });
  const shown = await b.waitForFunction((id) => {
    const v = document.querySelector(`.tile[data-share="${CSS.escape(id)}"] video`);
    const p = parleyMeeting.participants.get(id);
    return v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 5 && p.streams.has("share") && p.streams.has("video") &&
      { width: v.videoWidth, label: p.streams.get("share").track.kind };
  }, ida, { timeout: 20000 }).then((h) => h.jsonValue());
  assert.equal(shown.label, "video");
  const kinds = await b.evaluate((id) => log.filter((e) => e.id === id && e.ev === "p:stream-enabled").map((e) => e.kind), ida);
  assert.ok(kinds.includes("share"), `stream-enabled kinds: ${kinds}`);
  const sources = await b.evaluate(() => log.filter((e) => e.ev === "stream-enabled").map((e) => `${e.kind}/${e.source}`));
  assert.ok(sources.includes("share/screen") && sources.includes("video/camera"), `${sources}`);
  // The camera tile still plays, next to the share.
  await b.waitForFunction((id) => document.querySelector(`.tile[data-id="${CSS.escape(id)}"] video`)?.videoWidth > 0, ida);
  await b.screenshot({ path: screenshotPath("demo-screen-share.png") });

  // Stopped: the share tile goes, the camera stays.
  await a.click("#screen-btn");
  await b.waitForFunction((id) => !document.querySelector(`.tile[data-share="${CSS.escape(id)}"]`) &&
    !parleyMeeting.participants.get(id).streams.has("share") && parleyMeeting.participants.get(id).streams.has("video"), ida, { timeout: 20000 });
  assert.equal(await a.evaluate(() => document.querySelector("#screen-btn").dataset.on), "false");
  await decoded(b, ida, { kinds: 1 });
  for (const page of [a, b]) assert.deepEqual(await errorsOf(page), [], "no error event");
  await ctx.close();
});

// provokes 107
test("a token without the screen grant: enableScreenShare is refused with 107", { skip, timeout: 60000 }, async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${server.origin}/`);
  const meetingId = await server.room();
  const token = await server.token({ publish: ["camera", "microphone"] });
  const r = await page.evaluate(async ({ meetingId, token }) => {
    const { Parley } = await import("/sdk/parley.js");
    const m = Parley.initMeeting({ meetingId, token, name: "no screen" });
    const codes = [];
    m.on("error", (e) => codes.push(e.code));
    await m.join();
    const got = await m.enableScreenShare().then(() => "resolved", (e) => e.code);
    return { got, codes, share: m.localParticipant.streams.has("share") };
  }, { meetingId, token });
  assert.deepEqual(r, { got: 107, codes: [107], share: false });
  await ctx.close();
});
