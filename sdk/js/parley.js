// parley.js - Parley's browser SDK: the control plane (signaling over one
// WebSocket, docs/protocol.md §2), local device capture and media.
//
//   Parley.config(token);
//   const meeting = Parley.initMeeting({ meetingId, participantId, name, ... });
//   meeting.on("meeting-joined", () => ...);
//   meeting.onSessionError((e) => console.log(e.code, e.name, e.message));
//   await meeting.join();
//
// A dropped connection is resumed with the participant secret (`reconnect`),
// retried with a doubling backoff (initMeeting's `reconnect: {attempts,
// minMs, maxMs}`, default 8 attempts from 200 ms to 2 s) in the state
// RECONNECTING; when they are used up, meeting-left 1102.
//
// Every failure reaches the application as an `error` event
// {code, name, message, ...context} with a code of the catalog's web
// profile (docs/errors.md); calls that fail also reject with a ParleyError
// carrying the same fields. Browser device failures are mapped by
// src/device-errors.js (docs/browser-errors.md).
//
// Media (docs/protocol.md §2.2): the local camera, microphone and screen go
// out on one RTCPeerConnection (`publish-offer`, whose `sources` says which
// m-line is which); a change of the published tracks closes it, sends
// `unpublish` and offers again. Every other participant's published tracks
// come in on one RTCPeerConnection per publisher (`subscribe`,
// `subscribe-offer`, `subscribe-answer`); each track is emitted as
// `stream-enabled` {kind, track} on that participant, kind "audio",
// "video" (camera) or "share" (screen), and `stream-disabled` when the
// publisher stops or leaves. A VIEWER only subscribes.
// meeting.peerConnections() lists the connections in use (for diagnostics
// such as getStats()).
//
// Media is restored by itself: after a reconnection (the server ends the
// old connection's media) everything is published and subscribed afresh,
// and a connection whose ICE fails, or stays disconnected for
// ICE_DISCONNECTED_MS, is replaced (unpublish or unsubscribe, then a new
// exchange).
//
// The room's activity: `speaker-changed` (participant id or null) follows
// the server's `active-speaker` (the loudest publisher, from audio levels)
// and the speaker's microphone that stops; `presenter-changed` (id or null)
// follows the screen shares; meeting.activeSpeakerId and
// meeting.activePresenterId hold the current ones. A participant's micOn,
// webcamOn and screenShareOn come from the sources of its published tracks.
//
// This file is the entry; sdk/js/build.py bundles it with the modules it
// imports into the one ES module parleyd serves as /sdk/parley.js:
//   src/base.js         states, modes, ParleyError, catalog errors, Emitter, mixin
//   src/participant.js  a participant, its streams and published sources
//   src/meeting.js      the Meeting class and its public calls, leaving
//   src/signaling.js    the WebSocket, requests, reconnection
//   src/room.js         what the server says: participants, speaker, presenter
//   src/media.js        publication, subscriptions, ICE watch, media restore
//   src/devices.js      local camera, microphone and screen capture
//   src/device-errors.js  browser device failures -> catalog codes
//   errors.js           the catalog (generated in the build directory)
import { errors, catalog, leaveReasons } from "./src/errors.js";
import { deviceErrorCode, DEVICE_ERROR_TABLE } from "./src/device-errors.js";
import { MODES, ParleyError, STATES } from "./src/base.js";
import { Meeting } from "./src/meeting.js";

export { ParleyError };

let configuredToken = null;

export const Parley = Object.freeze({
  /** Set the token used by every meeting made afterwards. */
  config(token) {
    if (!token || typeof token !== "string") throw new ParleyError({ code: -1, name: "INVALID_PARAMETER", message: "config(token) needs a token" });
    configuredToken = token;
  },
  /** A meeting; nothing is sent before join(). */
  initMeeting(opts = {}) {
    if (!opts.meetingId || typeof opts.meetingId !== "string")
      throw new ParleyError({ code: -1, name: "INVALID_PARAMETER", message: "initMeeting needs a meetingId" });
    if (opts.mode && !MODES.includes(opts.mode))
      throw new ParleyError({ code: -1, name: "INVALID_MODE", message: `unknown mode ${opts.mode}` });
    return new Meeting(opts, configuredToken);
  },
  constants: Object.freeze({
    errors,
    catalog,
    leaveReason: leaveReasons,
    meetingState: STATES,
    modes: Object.freeze({ CONFERENCE: "CONFERENCE", VIEWER: "VIEWER", SEND_AND_RECV: "SEND_AND_RECV", SIGNALLING_ONLY: "SIGNALLING_ONLY" }),
    deviceErrors: DEVICE_ERROR_TABLE,
  }),
  deviceErrorCode,
  ParleyError,
});

export default Parley;
