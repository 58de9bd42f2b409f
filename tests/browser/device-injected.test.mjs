// device-injected.test.mjs - the device errors whose causes Chromium's fake
// capture backend cannot produce (a camera held by another program, the OS
// privacy switch, a device that cannot meet the constraints, a failing
// driver), through parley.js in a joined meeting against a real parleyd.
// Each test replaces getUserMedia / getDisplayMedia with one that rejects
// exactly as Chromium does for that cause (its DOMException name and
// message), then checks both the rejected call and the error event. The real
// causes that a test machine can produce are in parley.test.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { errorCodes, joinIn, launch, sdkPage, skipReason, startServer } from "./lib.mjs";

const skip = skipReason() || undefined; // node 20 treats a present null as "skip"
let server, browser;

before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function joined() {
  const ctx = await browser.newContext();
  const page = await sdkPage(ctx, server.origin);
  const r = await joinIn(page, { meetingId: await server.room(), name: "devices", token: await server.token({}) });
  assert.ok(r.ok, "joined");
  return { ctx, page };
}

/** In a joined page: make `fn` (getUserMedia or getDisplayMedia) reject with
 * the DOMException (name, message), or an OverconstrainedError when name is
 * that, then call the SDK action; resolves to {rejected, emitted}. */
async function failWith(page, fn, name, message, action) {
  return page.evaluate(async ([fn, name, message, action]) => {
    navigator.mediaDevices[fn] = async () => {
      throw name === "OverconstrainedError" ? new OverconstrainedError("width", message)
        : new DOMException(message, name);
    };
    events.length = 0;
    const rejected = await m[action]().then(() => 0, (e) => e.code);
    return { rejected, events };
  }, [fn, name, message, action]);
}

/** The test body: a joined page whose capture call fails as described. */
async function expectCode(code, fn, name, message, action) {
  const { ctx, page } = await joined();
  const out = await failWith(page, fn, name, message, action);
  assert.equal(out.rejected, code, "the call rejects with the code");
  assert.deepEqual(errorCodes(out.events), [code], "one error event with the code");
  const ev = out.events.find((e) => e.ev === "error").args[0];
  assert.ok(ev.name && ev.message, "the event carries the catalog name and message");
  await ctx.close();
}

// Injected: the fake camera meets any constraint parley.js asks.
// provokes 3011 web injected
test("OverconstrainedError from getUserMedia in enableWebcam() gives 3011", { skip, timeout: 30000 }, () =>
  expectCode(3011, "getUserMedia", "OverconstrainedError", "", "enableWebcam"));

// Injected: the fake microphone meets any constraint.
// provokes 3012 web injected
test("OverconstrainedError from getUserMedia in unmuteMic() gives 3012", { skip, timeout: 30000 }, () =>
  expectCode(3012, "getUserMedia", "OverconstrainedError", "", "unmuteMic"));

// Injected: a policy refusal needs an enterprise policy.
// provokes 3014 web injected
test("NotAllowedError from getUserMedia in enableWebcam() gives 3014", { skip, timeout: 30000 }, () =>
  expectCode(3014, "getUserMedia", "NotAllowedError", "The request is not allowed by the user agent or the platform in the current context.", "enableWebcam"));

// Injected: a policy refusal needs an enterprise policy.
// provokes 3015 web injected
test("NotAllowedError from getUserMedia in unmuteMic() gives 3015", { skip, timeout: 30000 }, () =>
  expectCode(3015, "getUserMedia", "NotAllowedError", "The request is not allowed by the user agent or the platform in the current context.", "unmuteMic"));

// Injected: the OS privacy switch is not on a test machine.
// provokes 3019 web injected
test("NotAllowedError from getUserMedia in enableWebcam() gives 3019", { skip, timeout: 30000 }, () =>
  expectCode(3019, "getUserMedia", "NotAllowedError", "Permission denied by system", "enableWebcam"));

// Injected: the OS privacy switch is not on a test machine.
// provokes 3020 web injected
test("NotAllowedError from getUserMedia in unmuteMic() gives 3020", { skip, timeout: 30000 }, () =>
  expectCode(3020, "getUserMedia", "NotAllowedError", "Permission denied by system", "unmuteMic"));

// Injected: no other program holds the fake camera.
// provokes 3023 web injected
test("NotReadableError from getUserMedia in enableWebcam() gives 3023", { skip, timeout: 30000 }, () =>
  expectCode(3023, "getUserMedia", "NotReadableError", "Device in use", "enableWebcam"));

// Injected: no other program holds the fake microphone.
// provokes 3024 web injected
test("NotReadableError from getUserMedia in unmuteMic() gives 3024", { skip, timeout: 30000 }, () =>
  expectCode(3024, "getUserMedia", "NotReadableError", "Device in use", "unmuteMic"));

// Injected: the fake camera's driver never fails.
// provokes 3026 web injected
test("NotReadableError from getUserMedia in enableWebcam() gives 3026", { skip, timeout: 30000 }, () =>
  expectCode(3026, "getUserMedia", "NotReadableError", "Could not start video source", "enableWebcam"));

// Injected: a fake screen always exists.
// provokes 3013 web injected
test("NotFoundError from getDisplayMedia in enableScreenShare() gives 3013", { skip, timeout: 30000 }, () =>
  expectCode(3013, "getDisplayMedia", "NotFoundError", "Requested device not found", "enableScreenShare"));

// Injected: a headless browser shows no screen picker to dismiss (it waits forever).
// provokes 3016 web injected
test("NotAllowedError from getDisplayMedia in enableScreenShare() gives 3016", { skip, timeout: 30000 }, () =>
  expectCode(3016, "getDisplayMedia", "NotAllowedError", "Permission denied", "enableScreenShare"));
