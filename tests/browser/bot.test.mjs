// bot.test.mjs - `parley bot` (libparley's media) against Debian's chromium
// through parleyd: the browser's own RTCPeerConnection, driven by a minimal
// page of its own (fixtures/rtc-client.html, no parley.js), (a) decodes what
// `parley bot publish` sends from ffmpeg's files, and (b) publishes its fake
// camera to a `parley bot subscribe`, which must receive whole VP8 frames
// without loss and save a file ffmpeg decodes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { BUILD, launch, skipReason, startServer } from "./lib.mjs";

const PARLEY = join(BUILD, "cli", "parley");
const PAGE = readFileSync(join(import.meta.dirname, "fixtures", "rtc-client.html"), "utf8");
const hasFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
const skip = skipReason() || (!existsSync(PARLEY) && "parley is not built") ||
  (!hasFfmpeg && "ffmpeg is not installed") || undefined;
let server, browser, media;

function ffmpeg(...args) {
  const r = spawnSync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", ...args]);
  assert.equal(r.status, 0, String(r.stderr));
}

before(async () => {
  if (skip) return;
  media = mkdtempSync(join(tmpdir(), "parley-bot-browser-"));
  ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "3", "-c:v", "libvpx", "-b:v", "600k",
    "-g", "30", "-f", "ivf", join(media, "pattern.ivf"));
  ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:a", "libopus", "-b:a", "32k",
    join(media, "sine.ogg"));
  server = await startServer();
  browser = await launch(["--allow-loopback-in-peer-connection"]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (media) rmSync(media, { recursive: true, force: true });
});

/** `parley bot ...` in the background: its JSON lines, stderr and exit. */
function bot(args) {
  const proc = spawn(PARLEY, ["bot", ...args, "--url", server.origin, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  const out = { lines: [], stderr: "", proc };
  let partial = "";
  proc.stdout.on("data", (d) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop();
    for (const l of parts) if (l.trim()) out.lines.push(JSON.parse(l));
  });
  proc.stderr.on("data", (d) => { out.stderr += d; });
  out.exit = new Promise((resolve) => proc.once("exit", (code, signal) => resolve(signal || code)));
  out.waitFor = async (pred, ms = 15000) => {
    const deadline = Date.now() + ms;
    while (!out.lines.some(pred)) {
      if (Date.now() > deadline) throw new Error(`bot: nothing matched; ${JSON.stringify(out.lines)} ${out.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return out.lines.find(pred);
  };
  out.summary = () => out.lines.find((e) => e.event === "summary");
  return out;
}

/** The fixture page on parleyd's origin, joined. The test writes it into a
 * page of that origin (a page fulfilled by the test itself would count as
 * outside the local network, and Chromium would refuse its WebSocket). */
async function clientPage(meetingId, participantId) {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/healthz`);
  await page.setContent(PAGE);
  const token = await server.token({});
  await page.evaluate(([m, p, t]) => rtc.join(m, p, t), [meetingId, participantId, token]);
  return page;
}

test("the browser decodes what `parley bot publish` sends", { skip, timeout: 90000 }, async () => {
  const meetingId = await server.room();
  const page = await clientPage(meetingId, "browser");
  const pub = bot(["publish", "--token", await server.token({}), "--meeting", meetingId, "--participant-id", "bot",
    "--video", join(media, "pattern.ivf"), "--audio", join(media, "sine.ogg"), "--seconds", "40"]);
  try {
    await pub.waitFor((e) => e.event === "media-state-changed" && e.state === "CONNECTED" && !e.participantId);
    await page.evaluate(() => rtc.subscribe("bot"));
    const stats = await page.evaluate(async () => {
      const deadline = Date.now() + 20000;
      let first = null, last = await rtc.inbound();
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        last = await rtc.inbound();
        const frames = last.video?.framesDecoded || 0;
        if (!first && frames > 0) first = { at: Date.now(), frames };
        // past the 3 s file: decoding carries on across the loop
        if (first && Date.now() - first.at > 4000 && frames > first.frames + 90) break;
      }
      return { first, last, state: window.subscriber.connectionState };
    });
    console.log(`# browser inbound: ${JSON.stringify(stats)}`);
    assert.ok(stats.first, `no video decoded: ${JSON.stringify(stats)}`);
    assert.ok(stats.last.video.framesDecoded > stats.first.frames + 90, `framesDecoded ${JSON.stringify(stats)}`);
    assert.equal(stats.last.video.frameWidth, 320);
    assert.equal(stats.last.video.frameHeight, 240);
    assert.equal(stats.last.video.packetsLost, 0);
    assert.ok(stats.last.audio?.packetsReceived > 100, `audio ${JSON.stringify(stats)}`);
  } finally {
    pub.proc.kill("SIGTERM");
  }
  assert.equal(await pub.exit, 0, pub.stderr);
  const sent = Object.fromEntries(pub.summary().sent.map((s) => [s.kind, s]));
  assert.ok(sent.video.frames > 150 && sent.video.loops >= 1, JSON.stringify(sent));
  assert.ok(!pub.lines.some((e) => e.event === "error"), JSON.stringify(pub.lines));
  await page.close();
});

test("`parley bot subscribe` receives the browser's fake camera", { skip, timeout: 90000 }, async () => {
  const meetingId = await server.room();
  const page = await clientPage(meetingId, "camera");
  await page.evaluate(() => rtc.publishCamera());
  const save = mkdtempSync(join(media, "save-"));
  const sub = bot(["subscribe", "--token", await server.token({}), "--meeting", meetingId,
    "--participant-id", "recorder", "--seconds", "6", "--save", save]);
  assert.equal(await sub.exit, 0, `${sub.stderr} ${JSON.stringify(sub.lines)}`);
  const sentFrames = await page.evaluate(() => rtc.outbound());
  const tracks = Object.fromEntries(sub.summary().tracks.map((t) => [`${t.participantId}/${t.kind}`, t]));
  console.log(`# bot subscribe: ${JSON.stringify(tracks)}; the browser sent ${sentFrames} frames`);
  const video = tracks["camera/video"], audio = tracks["camera/audio"];
  assert.ok(video && video.frames > 30 && video.packets > 0, JSON.stringify(tracks));
  assert.equal(video.lost, 0, JSON.stringify(video));
  assert.ok(video.saved > 0, JSON.stringify(video));
  assert.ok(audio && audio.packets > 100 && audio.lost === 0, JSON.stringify(tracks));
  assert.ok(!sub.lines.some((e) => e.event === "error"), JSON.stringify(sub.lines));
  // the saved VP8 decodes, every frame of it
  const file = join(save, "camera-video.ivf");
  const probe = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
    "-show_entries", "stream=nb_read_frames,width,height", "-of", "json", file]);
  assert.equal(probe.status, 0, String(probe.stderr));
  assert.equal(String(probe.stderr), "");
  const stream = JSON.parse(String(probe.stdout)).streams[0];
  assert.equal(Number(stream.nb_read_frames), video.saved, JSON.stringify(stream));
  assert.equal(stream.width, 320);
  assert.equal(stream.height, 240);
  await page.evaluate(() => rtc.leave());
  await page.close();
});
