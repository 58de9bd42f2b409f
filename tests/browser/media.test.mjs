// media.test.mjs - media through parleyd in Debian's chromium: one page
// publishes its fake camera and microphone (publish-offer), another
// subscribes (subscribe, subscribe-offer, subscribe-answer), and the
// subscriber's getStats() must show decoded video frames and audio packets
// arriving through the server's UDP port. A minimal client of its own,
// speaking docs/protocol.md directly over a WebSocket from the page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launch, skipReason, startServer } from "./lib.mjs";

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

/** A page on the server's origin with window.sig: a joined signaling client. */
async function joinedPage(meetingId, participantId) {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/`);
  const token = await server.token({});
  await page.evaluate(async ({ meetingId, participantId, token }) => {
    const ws = new WebSocket(`ws://${location.host}/v1/signaling`, "parley.v1");
    const inbox = [], waiters = [];
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      const i = waiters.findIndex((w) => w.pred(m));
      if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
      else inbox.push(m);
    };
    const wait = (pred, ms = 10000) => {
      const i = inbox.findIndex(pred);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`timed out; inbox ${JSON.stringify(inbox)}`)), ms);
      });
    };
    let n = 0;
    const request = async (msg) => {
      const id = `r${++n}`;
      ws.send(JSON.stringify({ ...msg, id }));
      const r = await wait((m) => m.id === id && (m.type === "response" || m.type === "error"));
      if (r.type === "error") throw new Error(`${msg.type}: ${r.code} ${r.hint}`);
      return r;
    };
    // Subscribe to a publisher on a new connection (window.pc): the server's
    // offer answered; resolves to {pc, offer}.
    const subscribe = async (publisherId) => {
      const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
      window.pc = pc;
      await request({ type: "subscribe", participantId: publisherId });
      const offer = await wait((m) => m.type === "subscribe-offer" && m.participantId === publisherId);
      await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await request({ type: "subscribe-answer", participantId: publisherId, sdp: pc.localDescription.sdp });
      return { pc, offer };
    };
    // Publish the fake camera (320x240) and microphone on a new connection
    // (window.pc); resolves to the server's answer.
    const publish = async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
      const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
      for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: "sendonly", streams: [stream] });
      await pc.setLocalDescription(await pc.createOffer());
      const r = await request({ type: "publish-offer", sdp: pc.localDescription.sdp });
      await pc.setRemoteDescription({ type: "answer", sdp: r.sdp });
      window.pc = pc;
      return r.sdp;
    };
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    ws.send(JSON.stringify({ type: "join", id: "j", token, meetingId, participantId }));
    await wait((m) => m.type === "joined");
    window.sig = { ws, wait, request, subscribe, publish, inbox };
  }, { meetingId, participantId, token });
  return page;
}

test("a subscriber decodes the publisher's fake camera and hears its microphone", { skip, timeout: 60000 }, async () => {
  const meetingId = await server.room();
  const pub = await joinedPage(meetingId, "pub");
  const sub = await joinedPage(meetingId, "sub");

  await pub.evaluate(() => sig.publish());

  const enabled = await sub.evaluate(async () => {
    const kinds = [];
    for (let i = 0; i < 2; i++)
      kinds.push((await sig.wait((m) => m.type === "stream-enabled" && m.participantId === "pub")).kind);
    return kinds.sort();
  });
  assert.deepEqual(enabled, ["audio", "video"]);

  await sub.evaluate(async () => {
    await sig.subscribe("pub");
  });

  const stats = await sub.evaluate(async () => {
    const read = async () => {
      const out = { framesDecoded: 0, audioPackets: 0 };
      (await pc.getStats()).forEach((s) => {
        if (s.type !== "inbound-rtp") return;
        if (s.kind === "video") out.framesDecoded += s.framesDecoded || 0;
        if (s.kind === "audio") out.audioPackets += s.packetsReceived || 0;
      });
      return out;
    };
    const deadline = Date.now() + 15000;
    let first = null, last = await read();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      last = await read();
      if (!first && last.audioPackets > 0) first = last;
      if (first && last.framesDecoded > 10 && last.audioPackets > first.audioPackets) break;
    }
    return { first, last, state: pc.connectionState };
  });
  console.log(`# subscriber: ${JSON.stringify(stats)}`);
  assert.ok(stats.last.framesDecoded > 10, `framesDecoded ${JSON.stringify(stats)}`);
  assert.ok(stats.first && stats.last.audioPackets > stats.first.audioPackets, `audio ${JSON.stringify(stats)}`);
  await pub.close();
  await sub.close();
});

// Simulcast: the publisher sends three layers (rids q, h, f at a quarter, a
// half and the whole of a 1280x720 fake camera); the SFU learns their SSRCs
// from the RID extension and the subscriber gets one stream, the highest
// layer at first, then the one it asks for with set-layer.
test("a subscriber switches between the publisher's simulcast layers with set-layer", { skip, timeout: 90000 }, async () => {
  const meetingId = await server.room();
  const pub = await joinedPage(meetingId, "pub");
  const sub = await joinedPage(meetingId, "sub");

  const answer = await pub.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    pc.addTransceiver(stream.getVideoTracks()[0], {
      direction: "sendonly", streams: [stream],
      sendEncodings: [{ rid: "q", scaleResolutionDownBy: 4 }, { rid: "h", scaleResolutionDownBy: 2 }, { rid: "f" }],
    });
    await pc.setLocalDescription(await pc.createOffer());
    const r = await sig.request({ type: "publish-offer", sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: "answer", sdp: r.sdp });
    window.pc = pc;
    return r.sdp;
  });
  assert.match(answer, /a=simulcast:recv q;h;f\r\n/);
  assert.match(answer, /a=rtcp-fb:\d+ goog-remb\r\n/);

  const layers = await sub.evaluate(async () => {
    await sig.wait((m) => m.type === "stream-enabled" && m.participantId === "pub");
    const { pc, offer } = await sig.subscribe("pub");
    window.width = async () => {
      let w = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") w = s.frameWidth || 0;
      });
      return w;
    };
    /* the decoded width until it is want (or the time is up) */
    window.widthBecomes = async (want, ms = 20000) => {
      const deadline = Date.now() + ms;
      let w = await width();
      while (w !== want && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        w = await width();
      }
      return w;
    };
    return offer.tracks[0].layers;
  });
  assert.equal(layers, 3);

  // the highest layer by default (the publisher ramps up to it)
  const seen = [];
  seen.push(await sub.evaluate(() => widthBecomes(1280, 40000)));
  for (const [layer, want] of [["low", 320], ["medium", 640], ["high", 1280], [0, 320]]) {
    seen.push(await sub.evaluate(async ({ layer, want }) => {
      await sig.request({ type: "set-layer", participantId: "pub", layer });
      return widthBecomes(want);
    }, { layer, want }));
  }
  console.log(`# subscriber frame widths: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen, [1280, 320, 640, 1280, 320]);
  await pub.close();
  await sub.close();
});

// ICE restart over the signaling: the publisher calls restartIce() and sends
// its new offer (new ice-ufrag and ice-pwd, the same m-lines) as
// publish-offer; the answer has the server's new credentials and the
// subscriber's video goes on. Then the subscriber restarts its own ICE
// with subscribe {iceRestart: true}, answering the new subscribe-offer.
test("ICE restarts of a publication and a subscription keep the media flowing", { skip, timeout: 90000 }, async () => {
  const meetingId = await server.room();
  const pub = await joinedPage(meetingId, "pub");
  const sub = await joinedPage(meetingId, "sub");
  const ufrag = (sdp) => /a=ice-ufrag:(\S+)/.exec(sdp)[1];

  const firstAnswer = await pub.evaluate(() => sig.publish());

  await sub.evaluate(async () => {
    for (let i = 0; i < 2; i++) await sig.wait((m) => m.type === "stream-enabled" && m.participantId === "pub");
    const { pc } = await sig.subscribe("pub");
    window.frames = async () => {
      let n = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") n += s.framesDecoded || 0;
      });
      return n;
    };
    /* framesDecoded once it has grown past more than `more` frames (or the time is up) */
    window.framesPast = async (more, ms = 20000) => {
      const deadline = Date.now() + ms;
      let n = await frames();
      while (n <= more && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        n = await frames();
      }
      return n;
    };
  });
  const before = await sub.evaluate(() => framesPast(10));
  assert.ok(before > 10, `framesDecoded before the restarts: ${before}`);

  // the publisher's restart
  const restart = await pub.evaluate(async () => {
    const before = /a=ice-ufrag:(\S+)/.exec(pc.localDescription.sdp)[1];
    pc.restartIce();
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription.sdp;
    const r = await sig.request({ type: "publish-offer", sdp: offer });
    await pc.setRemoteDescription({ type: "answer", sdp: r.sdp });
    const deadline = Date.now() + 15000;
    let ice = pc.iceConnectionState, localUfrag = null;
    /* connected again, over the new credentials */
    while (Date.now() < deadline) {
      ice = pc.iceConnectionState;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "transport" && s.iceLocalUsernameFragment) localUfrag = s.iceLocalUsernameFragment;
      });
      if ((ice === "connected" || ice === "completed") && (localUfrag === null || localUfrag !== before)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    return { before, after: /a=ice-ufrag:(\S+)/.exec(offer)[1], answer: r.sdp, ice, localUfrag };
  });
  console.log(`# publisher restart: ${JSON.stringify({ ...restart, answer: undefined })}`);
  assert.notEqual(restart.after, restart.before);
  assert.notEqual(ufrag(restart.answer), ufrag(firstAnswer));
  assert.equal(restart.answer.replace(/a=ice-(ufrag|pwd):\S+\r\n/g, ""), firstAnswer.replace(/a=ice-(ufrag|pwd):\S+\r\n/g, ""));
  assert.ok(restart.ice === "connected" || restart.ice === "completed", restart.ice);
  assert.ok(restart.localUfrag === null || restart.localUfrag === restart.after, restart.localUfrag);
  const afterPub = await sub.evaluate((n) => framesPast(n + 30), before);
  assert.ok(afterPub > before + 30, `framesDecoded ${before} -> ${afterPub} after the publisher's restart`);

  // the subscriber's restart
  const subRestart = await sub.evaluate(async () => {
    const before = /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription.sdp)[1];
    await sig.request({ type: "subscribe", participantId: "pub", iceRestart: true });
    const offer = await sig.wait((m) => m.type === "subscribe-offer" && m.participantId === "pub");
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await sig.request({ type: "subscribe-answer", participantId: "pub", sdp: pc.localDescription.sdp });
    const deadline = Date.now() + 15000;
    let ice = pc.iceConnectionState;
    while (Date.now() < deadline) {
      ice = pc.iceConnectionState;
      if (ice === "connected" || ice === "completed") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const disabled = sig.inbox.filter((m) => m.type === "stream-disabled").length;
    return { before, after: /a=ice-ufrag:(\S+)/.exec(offer.sdp)[1], ice, disabled };
  });
  console.log(`# subscriber restart: ${JSON.stringify(subRestart)}`);
  assert.notEqual(subRestart.after, subRestart.before);
  assert.ok(subRestart.ice === "connected" || subRestart.ice === "completed", subRestart.ice);
  assert.equal(subRestart.disabled, 0);
  const afterSub = await sub.evaluate((n) => framesPast(n + 30), afterPub);
  assert.ok(afterSub > afterPub + 30, `framesDecoded ${afterPub} -> ${afterSub} after the subscriber's restart`);
  await pub.close();
  await sub.close();
});
