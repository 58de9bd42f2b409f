// sdk-speaker.test.mjs - the active speaker and the presenter through
// parleyd in Debian's chromium with fake devices. The speaker comes from the
// server's detector over the RFC 6464 audio levels Chromium sends: the fake
// microphone's beep is elected, a silent track (an AudioContext's, whose
// packets carry the level of silence) never is, and speaker-changed follows the microphones
// that stop and start; the demo page highlights the speaker's tile. The
// presenter: a participant who shares only a screen is the presenter
// (presenter-changed, activePresenterId) with webcamOn false and
// screenShareOn true, until the share stops. A late joiner is told the
// current speaker.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { joinIn, launch, screenshotPath, sdkPage, skipReason, startServer } from "./lib.mjs";

const skip = skipReason() || undefined;
let server, browser;

before(async () => {
  if (skip) return;
  server = await startServer();
  // The silent track's AudioContext runs without a user gesture.
  browser = await launch(["--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required"]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** An SDK page joined to room (window.m), recording speaker-changed and
 * presenter-changed as window.seen [{ev, id}]. */
async function member(ctx, room, name, opts = {}) {
  const page = await sdkPage(ctx, server.origin);
  const token = await server.token({ roomId: room });
  const r = await joinIn(page, { meetingId: room, token, name, ...opts });
  assert.deepEqual(r, { ok: true }, `${name} joins`);
  await page.evaluate(() => {
    window.seen = [];
    for (const ev of ["speaker-changed", "presenter-changed"]) m.on(ev, (id) => seen.push({ ev, id }));
  });
  return page;
}

const idOf = (page) => page.evaluate(() => m.localParticipant.id);

/** Wait until the page has seen `ev` with `id` (after the first `from` entries). */
function waitSeen(page, ev, id, from = 0, timeout = 20000) {
  return page.waitForFunction(({ ev, id, from }) => seen.slice(from).some((e) => e.ev === ev && e.id === id),
    { ev, id, from }, { timeout });
}

const seenOf = (page) => page.evaluate(() => seen);
const errorsOf = (page) => page.evaluate(() => events.filter((e) => e.ev === "error").map((e) => e.args[0].code));

/** Packets and the audio level the page's publication sends (getStats). */
const sentAudio = (page) => page.evaluate(async () => {
  const pc = m.peerConnections().publish;
  const o = { packetsSent: 0 };
  if (pc) (await pc.getStats()).forEach((s) => { if (s.type === "outbound-rtp" && s.kind === "audio") o.packetsSent = s.packetsSent; });
  return o;
});

test("the beeping microphone is the active speaker, a silent one never; speaker-changed follows the microphones", { skip, timeout: 90000 }, async () => {
  const ctx = await browser.newContext();
  const room = await server.room();
  const b = await member(ctx, room, "Grace");
  const a = await member(ctx, room, "Ada", { micEnabled: true });
  const ida = await idOf(a), idb = await idOf(b);
  // Grace publishes a silent microphone: an oscillator through a gain of 0
  // (a destination without a source would send no packets at all).
  await b.evaluate(async () => {
    window.silence = new AudioContext();
    await silence.resume();
    const dest = silence.createMediaStreamDestination(), gain = silence.createGain(), osc = silence.createOscillator();
    gain.gain.value = 0;
    osc.connect(gain).connect(dest);
    osc.start();
    await m.unmuteMic(dest.stream.getAudioTracks()[0]);
  });

  // Ada's beep wins on both pages (the server tells the speaker too).
  await Promise.all([waitSeen(a, "speaker-changed", ida), waitSeen(b, "speaker-changed", ida)]);
  // Grace's silence is sent (packets flow) but is never elected.
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok((await sentAudio(b)).packetsSent > 50, `Grace sends her silent track: ${JSON.stringify(await sentAudio(b))}`);
  for (const page of [a, b]) {
    assert.deepEqual((await seenOf(page)).filter((e) => e.ev === "speaker-changed"), [{ ev: "speaker-changed", id: ida }]);
    assert.equal(await page.evaluate(() => m.activeSpeakerId), ida);
  }
  // A late joiner is told the current speaker right after joining.
  const c = await member(ctx, room, "Carol");
  await c.waitForFunction((id) => m.activeSpeakerId === id, ida, { timeout: 5000 });
  await c.evaluate(() => m.leave());

  // Ada mutes: nobody speaks (the silent track is not elected).
  const n = (await seenOf(b)).length;
  await a.evaluate(() => m.muteMic());
  await Promise.all([waitSeen(a, "speaker-changed", null), waitSeen(b, "speaker-changed", null, n)]);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await b.evaluate(() => m.activeSpeakerId), null);

  // Grace takes the fake microphone (it beeps): she is elected.
  await b.evaluate(async () => {
    await m.muteMic();
    await m.unmuteMic();
  });
  await Promise.all([waitSeen(a, "speaker-changed", idb), waitSeen(b, "speaker-changed", idb)]);
  assert.equal(await a.evaluate(() => m.activeSpeakerId), idb);
  const ids = (await seenOf(a)).filter((e) => e.ev === "speaker-changed").map((e) => e.id);
  assert.deepEqual(ids, [ida, null, idb], "Ada's page: speaker-changed in order");
  for (const page of [a, b]) assert.deepEqual(await errorsOf(page), [], "no error event");
  await ctx.close();
});

test("the demo page highlights the active speaker's tile", { skip, timeout: 90000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const join = async (name, room, mic) => {
    const page = await ctx.newPage();
    await page.goto(`${server.origin}/${room ? `?room=${room}` : ""}`);
    await page.fill("#name", name);
    if (!mic) await page.uncheck("#mic-on");
    await page.click("#join-btn");
    await page.waitForFunction(() => document.querySelector("#status").dataset.state === "CONNECTED", null, { timeout: 20000 });
    return page;
  };
  const b = await join("Grace Hopper", null, false);
  const a = await join("Ada Lovelace", await b.inputValue("#room"), true);
  const ida = await a.evaluate(() => parleyMeeting.localParticipant.id);
  // Ada speaks (the only microphone): her tile is highlighted on both pages, no other.
  for (const page of [a, b]) {
    await page.waitForFunction((id) => document.querySelector(`.tile.speaking[data-id="${CSS.escape(id)}"]`), ida, { timeout: 20000 });
    assert.equal(await page.$$eval(".tile.speaking", (l) => l.length), 1);
  }
  await b.waitForFunction((id) => document.querySelector(`.tile[data-id="${CSS.escape(id)}"] video`)?.videoWidth > 0, ida, { timeout: 20000 });
  await b.screenshot({ path: screenshotPath("demo-active-speaker.png") });
  // Ada mutes: no tile is highlighted.
  await a.click("#mic-btn");
  await b.waitForFunction(() => !document.querySelector(".tile.speaking"), null, { timeout: 20000 });
  await ctx.close();
});

test("a screen share alone makes its participant the presenter, webcamOn false; stopping it clears both", { skip, timeout: 90000 }, async () => {
  const ctx = await browser.newContext();
  const room = await server.room();
  const a = await member(ctx, room, "Ada");
  const b = await member(ctx, room, "Grace");
  const ida = await idOf(a);
  await a.evaluate(() => m.enableScreenShare());
  // Grace: Ada presents; she shares a screen and no camera.
  await waitSeen(b, "presenter-changed", ida);
  const flags = () => b.evaluate((id) => {
    const p = m.participants.get(id);
    return { presenter: m.activePresenterId, webcamOn: p.webcamOn, micOn: p.micOn, screenShareOn: p.screenShareOn };
  }, ida);
  assert.deepEqual(await flags(), { presenter: ida, webcamOn: false, micOn: false, screenShareOn: true });
  // Ada's own page too.
  await waitSeen(a, "presenter-changed", ida);
  assert.equal(await a.evaluate(() => m.activePresenterId), ida);
  assert.equal(await a.evaluate(() => m.localParticipant.screenShareOn), true);

  // Ada adds her camera: still the presenter, now webcamOn too.
  await a.evaluate(() => m.enableWebcam());
  await b.waitForFunction((id) => m.participants.get(id).webcamOn && m.participants.get(id).screenShareOn, ida, { timeout: 20000 });
  assert.equal(await b.evaluate(() => m.activePresenterId), ida);

  // The share stops: no presenter, the camera stays.
  const n = (await seenOf(b)).length;
  await a.evaluate(() => m.disableScreenShare());
  await waitSeen(b, "presenter-changed", null, n);
  // (stopping the share publishes the camera again: its flag settles after that)
  await b.waitForFunction((id) => !m.participants.get(id).screenShareOn && m.participants.get(id).webcamOn, ida,
    { timeout: 20000 });
  assert.deepEqual(await flags(), { presenter: null, webcamOn: true, micOn: false, screenShareOn: false });
  await waitSeen(a, "presenter-changed", null);
  assert.equal(await a.evaluate(() => m.activePresenterId), null);

  // A participant who leaves while presenting: presenter-changed null.
  await a.evaluate(() => m.enableScreenShare());
  // Grace's subscription to the new publication is connected before Ada goes
  // (leaving in the middle of that exchange is a 103 for Grace, rightly).
  await b.waitForFunction((id) => m.activePresenterId === id && m.participants.get(id).streams.has("share") &&
    m.peerConnections().subscriptions.get(id)?.connectionState === "connected", ida, { timeout: 20000 });
  const k = (await seenOf(b)).length;
  await a.evaluate(() => m.leave());
  await waitSeen(b, "presenter-changed", null, k);
  for (const page of [a, b]) assert.deepEqual(await errorsOf(page), [], "no error event");
  await ctx.close();
});
