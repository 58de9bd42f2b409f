// sdk-media.test.mjs - parley.js media through parleyd in Debian's chromium:
// two demo pages join one room with the fake camera and microphone, each
// must decode the other's video and receive its audio (getStats on the
// SDK's subscriptions, meeting.peerConnections(), and an AnalyserNode on the
// remote audio track: the fake microphone beeps, peaks near 1.0), and a third page joined
// as a VIEWER through parley.js receives both without publishing.
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

/** In the page: wait until every publisher in `from` is decoded (video
 * framesDecoded > 10), its audio packets keep arriving and its audio track
 * carries sound; returns the figures either way. */
function measure(page, from) {
  return page.evaluate(async (from) => {
    const m = window.parleyMeeting || window.m;
    const ctx = new AudioContext();
    await ctx.resume().catch(() => {});
    const analysers = new Map(), energy = {};
    const read = async () => {
      const out = {};
      for (const [id, pc] of m.peerConnections().subscriptions) {
        const o = { framesDecoded: 0, audioPackets: 0 };
        (await pc.getStats()).forEach((s) => {
          if (s.type !== "inbound-rtp") return;
          if (s.kind === "video") o.framesDecoded += s.framesDecoded || 0;
          if (s.kind === "audio") o.audioPackets += s.packetsReceived || 0;
        });
        out[id] = o;
      }
      return out;
    };
    const listen = () => {
      for (const id of from) {
        const s = m.participants.get(id)?.streams.get("audio");
        if (s && !analysers.has(id)) {
          const an = ctx.createAnalyser();
          ctx.createMediaStreamSource(new MediaStream([s.track])).connect(an);
          analysers.set(id, an);
          energy[id] = 0;
        }
        const an = analysers.get(id);
        if (an) {
          const buf = new Float32Array(an.fftSize);
          an.getFloatTimeDomainData(buf);
          for (const v of buf) energy[id] = Math.max(energy[id], Math.abs(v));
        }
      }
    };
    const deadline = Date.now() + 25000;
    let first = null, last = await read();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      last = await read();
      listen();
      if (!first && from.every((id) => last[id]?.audioPackets > 0)) first = last;
      if (first && from.every((id) => last[id].framesDecoded > 10 && last[id].audioPackets > first[id].audioPackets && energy[id] > 0.05))
        break;
    }
    ctx.close();
    return { first, last, energy, audioContext: ctx.state, subscribed: [...m.peerConnections().subscriptions.keys()].sort(),
      publishing: !!m.peerConnections().publish };
  }, from);
}

function check(who, r, from) {
  console.log(`# ${who}: ${JSON.stringify(r)}`);
  for (const id of from) {
    assert.ok(r.last[id]?.framesDecoded > 10, `${who} decodes ${id}'s video: ${JSON.stringify(r)}`);
    assert.ok(r.first && r.last[id].audioPackets > r.first[id].audioPackets, `${who} receives ${id}'s audio: ${JSON.stringify(r)}`);
    assert.ok(r.energy[id] > 0.05, `${who} hears ${id}'s beep: ${JSON.stringify(r)}`);
  }
}

async function demoJoin(ctx, name, room) {
  const page = await ctx.newPage();
  await page.goto(`${server.origin}/${room ? `?room=${room}` : ""}`);
  await page.fill("#name", name);
  await page.click("#join-btn");
  await page.waitForFunction(() => document.querySelector("#status").dataset.state === "CONNECTED", null, { timeout: 20000 });
  return page;
}

test("two demo pages see and hear each other through parley.js; a VIEWER receives both", { skip, timeout: 90000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const a = await demoJoin(ctx, "Ada Lovelace");
  const room = await a.inputValue("#room");
  const b = await demoJoin(ctx, "Grace Hopper", room);
  const ida = await a.evaluate(() => parleyMeeting.localParticipant.id);
  const idb = await b.evaluate(() => parleyMeeting.localParticipant.id);

  check("Ada", await measure(a, [idb]), [idb]);
  check("Grace", await measure(b, [ida]), [ida]);

  // The remote tile plays video frames and the remote audio element is live.
  for (const [page, other] of [[a, idb], [b, ida]]) {
    const shown = await page.waitForFunction((id) => {
      const t = document.querySelector(`.tile[data-id="${CSS.escape(id)}"]`);
      const v = t?.querySelector("video"), au = t?.querySelector("audio");
      return v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 10 && au && !au.paused &&
        au.srcObject.getAudioTracks()[0].readyState === "live" && { frames: v.getVideoPlaybackQuality().totalVideoFrames };
    }, other, { timeout: 15000 }).then((h) => h.jsonValue());
    assert.ok(shown.frames > 10);
  }
  // Painted, not just decoded: a presented frame, then the next paint.
  await a.evaluate((id) => new Promise((resolve) => {
    const v = document.querySelector(`.tile[data-id="${CSS.escape(id)}"] video`);
    v.requestVideoFrameCallback(() => v.requestVideoFrameCallback(() => requestAnimationFrame(() => resolve())));
  }), idb);
  await a.screenshot({ path: screenshotPath("demo-two-way.png") });
  for (const page of [a, b]) assert.equal(await page.$$eval("#error-list li", (l) => l.length), 0, "no error events");

  // A VIEWER through parley.js: subscribes to both, publishes nothing.
  const v = await ctx.newPage();
  await v.goto(`${server.origin}/`);
  await v.click("body"); // a user gesture, for the AudioContext
  const token = await server.token({});
  await v.evaluate(async ({ room, token }) => {
    const { Parley } = await import("/sdk/parley.js");
    window.errors = [];
    window.m = Parley.initMeeting({ meetingId: room, token, name: "viewer", mode: "VIEWER", micEnabled: true, webcamEnabled: true });
    m.on("error", (e) => errors.push(e.code));
    // As an application would, play each remote audio track (Chromium's Web
    // Audio sees a remote track's samples only while it plays somewhere).
    m.on("participant-joined", (p) => p.on("stream-enabled", (s) => {
      if (s.kind !== "audio") return;
      const el = Object.assign(document.createElement("audio"), { autoplay: true, srcObject: new MediaStream([s.track]) });
      document.body.append(el);
    }));
    await m.join();
  }, { room, token });
  const rv = await measure(v, [ida, idb]);
  check("viewer", rv, [ida, idb]);
  assert.deepEqual(rv.subscribed, [ida, idb].sort());
  assert.equal(rv.publishing, false);
  assert.deepEqual(await v.evaluate(() => errors), []);
  assert.equal(await v.evaluate(() => m.localParticipant.streams.size), 0);
  // The publishers hold no subscription to the viewer.
  assert.deepEqual(await a.evaluate(() => [...parleyMeeting.peerConnections().subscriptions.keys()]), [idb]);

  // Ada stops her camera: the others' subscriptions are re-made for her
  // microphone alone (her tile shows her initials); started again, her
  // video is decoded once more.
  await a.click("#cam-btn");
  await b.waitForFunction((id) => {
    const t = document.querySelector(`.tile[data-id="${CSS.escape(id)}"]`);
    return !t.querySelector("video") && !t.querySelector(".avatar").hidden && t.querySelector("audio") &&
      parleyMeeting.participants.get(id).streams.has("audio") && !parleyMeeting.participants.get(id).streams.has("video");
  }, ida, { timeout: 15000 });
  await a.click("#cam-btn");
  check("Grace, after Ada's camera restarts", await measure(b, [ida]), [ida]);
  assert.equal(await b.evaluate(() => parleyMeeting.peerConnections().subscriptions.size), 1);
  for (const page of [a, b]) assert.equal(await page.$$eval("#error-list li", (l) => l.length), 0, "no error events");

  // Grace leaves: Ada's tile for her goes, and her subscription is closed.
  await b.click("#leave-btn");
  await a.waitForFunction((id) => !document.querySelector(`.tile[data-id="${CSS.escape(id)}"]`) &&
    parleyMeeting.peerConnections().subscriptions.size === 0, idb, { timeout: 15000 });
  await v.waitForFunction(() => m.peerConnections().subscriptions.size === 1, null, { timeout: 15000 });
  await ctx.close();
});
