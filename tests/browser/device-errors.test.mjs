// device-errors.test.mjs - the browser error table of docs/browser-errors.md,
// row by row, through the served bundle (no browser needed).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

import { BUILD } from "./lib.mjs";

const bundle = join(BUILD, "server", "web", "sdk", "parley.js");
const skip = existsSync(bundle) ? undefined : "the web root is not built";

test("every row of the device error table maps to its catalog code", { skip }, async () => {
  const { Parley } = await import(pathToFileURL(bundle));
  const E = Parley.constants.errors;
  const code = Parley.deviceErrorCode;
  const rows = [
    ["NoMediaDevices", "", E.ERROR_CAMERA_ACCESS_UNAVAILABLE, E.ERROR_MICROPHONE_ACCESS_UNAVAILABLE, E.ERROR_GET_DISPLAY_MEDIA],
    ["NotAllowedError", "Permission denied", 3017, 3018, 3016],
    ["NotAllowedError", "Permission dismissed", 3017, 3018, 3016],
    ["NotAllowedError", "Permission denied by system", 3019, 3020, 3016],
    ["NotAllowedError", "The request is not allowed by the user agent", 3014, 3015, 3016],
    ["NotFoundError", "Requested device not found", 3021, 3022, 3013],
    ["NotReadableError", "Device in use", 3023, 3024, 3013],
    ["NotReadableError", "Could not start video source", 3026, 3024, 3013],
    ["OverconstrainedError", "", 3011, 3012, 3013],
    ["TrackEnded", "", 3027, 3028, undefined],
    ["InvalidCustomTrack", "", 3029, 3030, undefined],
    ["CustomTrackEnded", "", 3031, 3032, undefined],
    ["AbortError", "Timeout starting video source", 3011, 3012, 3013],
  ];
  for (const [name, message, video, audio, screen] of rows) {
    assert.equal(code(name, message, "video"), video, `${name} '${message}' video`);
    assert.equal(code(name, message, "audio"), audio, `${name} '${message}' audio`);
    if (screen !== undefined) assert.equal(code(name, message, "screen"), screen, `${name} '${message}' screen`);
  }
  assert.equal(E.ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, 3035);
  assert.equal(Parley.constants.leaveReason.WEBSOCKET_CONNECTION_ATTEMPTS_EXHAUSTED, 1102);
});
