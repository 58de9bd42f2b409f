// device-errors.js - browser media failures -> Parley web-profile codes.
//
// One table, read top to bottom; the first row whose `name` (the
// DOMException name, or a Parley situation) and `message` test match gives
// the code for the kind of device: video (camera), audio (microphone) or
// screen. docs/browser-errors.md is the same table for people.
import { errors } from "./errors.js";

const E = errors;

// [situation or DOMException name, message test (null: any), video, audio, screen]
export const DEVICE_ERROR_TABLE = Object.freeze([
  ["NoMediaDevices", null, E.ERROR_CAMERA_ACCESS_UNAVAILABLE, E.ERROR_MICROPHONE_ACCESS_UNAVAILABLE, E.ERROR_GET_DISPLAY_MEDIA],
  ["NotAllowedError", /^Permission (denied|dismissed)$/, E.ERROR_CAMERA_ACCESS_DENIED_OR_DISMISSED, E.ERROR_MICROPHONE_ACCESS_DENIED_OR_DISMISSED, E.ERROR_GET_DISPLAY_MEDIA_PERMISSION_DENIED],
  ["NotAllowedError", /^Permission denied by system$/, E.ERROR_CAMERA_PERMISSION_DENIED_BY_OS, E.ERROR_MICROPHONE_PERMISSION_DENIED_BY_OS, E.ERROR_GET_DISPLAY_MEDIA_PERMISSION_DENIED],
  ["NotAllowedError", null, E.ERROR_GET_VIDEO_MEDIA_PERMISSION_DENIED, E.ERROR_GET_AUDIO_MEDIA_PERMISSION_DENIED, E.ERROR_GET_DISPLAY_MEDIA_PERMISSION_DENIED],
  ["NotFoundError", null, E.ERROR_CAMERA_NOT_FOUND, E.ERROR_MICROPHONE_NOT_FOUND, E.ERROR_GET_DISPLAY_MEDIA],
  ["NotReadableError", /^Device in use$/, E.ERROR_CAMERA_IN_USE, E.ERROR_MICROPHONE_IN_USE, E.ERROR_GET_DISPLAY_MEDIA],
  ["NotReadableError", null, E.ERROR_VIDEO_SOURCE_INITIATION_FAILED, E.ERROR_MICROPHONE_IN_USE, E.ERROR_GET_DISPLAY_MEDIA],
  ["OverconstrainedError", null, E.ERROR_GET_VIDEO_MEDIA, E.ERROR_GET_AUDIO_MEDIA, E.ERROR_GET_DISPLAY_MEDIA],
  ["TrackEnded", null, E.ERROR_WEBCAM_TRACK_ENDED, E.ERROR_MICROPHONE_TRACK_ENDED, null],
  ["InvalidCustomTrack", null, E.ERROR_INVALID_CUSTOM_VIDEO_TRACK, E.ERROR_INVALID_CUSTOM_AUDIO_TRACK, null],
  ["CustomTrackEnded", null, E.ERROR_CUSTOM_VIDEO_TRACK_ENDED, E.ERROR_CUSTOM_AUDIO_TRACK_ENDED, null],
  // Anything else getUserMedia / getDisplayMedia rejects with.
  ["*", null, E.ERROR_GET_VIDEO_MEDIA, E.ERROR_GET_AUDIO_MEDIA, E.ERROR_GET_DISPLAY_MEDIA],
]);

const COLUMN = { video: 2, audio: 3, screen: 4 };

/** The web code for a failure: `name` is a DOMException name or one of the
 * situations of the table; kind is "video", "audio" or "screen". */
export function deviceErrorCode(name, message, kind) {
  const col = COLUMN[kind];
  for (const row of DEVICE_ERROR_TABLE) {
    if ((row[0] === name || row[0] === "*") && (!row[1] || row[1].test(String(message || ""))) && row[col] != null)
      return row[col];
  }
  return COLUMN[kind] ? DEVICE_ERROR_TABLE[DEVICE_ERROR_TABLE.length - 1][col] : undefined;
}
