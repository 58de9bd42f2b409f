// parley.js - Parley's browser SDK: the control plane (signaling over one
// WebSocket, docs/protocol.md §2) and local device capture.
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
import { errors, catalog, leaveReasons } from "./src/errors.js";
import { deviceErrorCode, DEVICE_ERROR_TABLE } from "./src/device-errors.js";

const STATES = Object.freeze({
  CONNECTING: "CONNECTING",
  CONNECTED: "CONNECTED",
  RECONNECTING: "RECONNECTING",
  FAILED: "FAILED",
  DISCONNECTED: "DISCONNECTED",
});
const MODES = ["CONFERENCE", "VIEWER", "SEND_AND_RECV", "SIGNALLING_ONLY"];
const RECONNECT = { attempts: 8, minMs: 200, maxMs: 2000 };
const REQUEST_TIMEOUT_MS = 20000;
const PING_MS = 20000;
const PC_CONFIG = { bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" };
const ICE_DISCONNECTED_MS = 4000; // a media connection disconnected this long is replaced
const MEDIA_RETRY_MS = [0, 500, 1000, 2000, 4000]; // delays between replacements in a row
// Local media kind -> the protocol's source, and back for remote tracks.
const SOURCE_OF_KIND = Object.freeze({ audio: "microphone", video: "camera", share: "screen" });
const KIND_OF_SOURCE = Object.freeze({ microphone: "audio", camera: "video", screen: "share" });

const CATALOG_BY_CODE = new Map(catalog.map((e) => [e.code, e]));
const LEAVE_MESSAGES = {
  1101: "leave() was called",
  1102: "the connection to the server was lost and could not be resumed",
  1103: "the meeting could not be joined",
};

function leaveReason(code, message) {
  const name = Object.keys(leaveReasons).find((n) => leaveReasons[n] === code) || "UNKNOWN";
  return { code, name, message: message || LEAVE_MESSAGES[code] || name };
}

/** A failure as an Error: code, name, message and the event's context. */
export class ParleyError extends Error {
  constructor(info) {
    super(info.message);
    Object.assign(this, info);
    this.name = info.name || "ParleyError";
  }
}

function localError(code, context = {}) {
  const e = CATALOG_BY_CODE.get(code);
  return { code, name: e ? e.name : "UNKNOWN_ERROR", message: e ? e.message : `error ${code}`, ...context };
}

class Emitter {
  constructor() {
    this._handlers = new Map();
  }
  on(event, fn) {
    if (typeof fn !== "function") throw new TypeError("on(event, fn): fn must be a function");
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(fn);
    return this;
  }
  off(event, fn) {
    const set = this._handlers.get(event);
    if (set) fn ? set.delete(fn) : set.clear();
    return this;
  }
  emit(event, ...args) {
    for (const fn of [...(this._handlers.get(event) || [])]) {
      try {
        fn(...args);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }
}

/** One participant; the local one also holds the local streams. */
class Participant extends Emitter {
  constructor(p, local = false) {
    super();
    this.id = p.participantId;
    this.displayName = p.name || "";
    this.mode = p.mode || "CONFERENCE";
    this.micOn = !!p.audio;
    this.webcamOn = !!p.video;
    this.local = local;
    this.streams = new Map(); // kind ("video", "audio", "share") -> {kind, track}
  }
}

function signalingUrl(url) {
  const base = url || (typeof location !== "undefined" ? location.origin : "");
  const u = new URL(base, typeof location !== "undefined" ? location.href : undefined);
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.pathname === "/" || u.pathname === "") u.pathname = "/v1/signaling";
  return u.toString();
}

function randomId() {
  const a = new Uint8Array(6);
  crypto.getRandomValues(a);
  return "p-" + Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

class Meeting extends Emitter {
  constructor(opts, token) {
    super();
    this.id = opts.meetingId;
    this._opts = { ...opts };
    this._token = opts.token || token;
    this._ws = null;
    this._seq = 0;
    this._pending = new Map(); // request id -> {resolve, reject, timer}
    this._joined = false; // between `joined` and `meeting-left`
    this._left = false;
    this._state = null;
    this._secret = null;
    this._attempt = 0;
    this._timer = null;
    this._ping = null;
    this._joinWaiter = null;
    this._reconnect = { ...RECONNECT, ...(opts.reconnect || {}) };
    this._media = { video: null, audio: null, share: null };
    this._pub = null; // {pc, tracks: {audio, video}}: what is published
    this._pubChain = Promise.resolve();
    this._pubHold = 0;
    this._pubTimer = null;
    this._subs = new Map(); // publisher id -> {id, pc, streams}
    this.localParticipant = new Participant(
      { participantId: opts.participantId || randomId(), name: opts.name, mode: opts.mode }, true);
    this.participants = new Map();
    this.locked = false;
  }

  get state() {
    return this._state;
  }

  /** Every error event: the same as on("error", fn). */
  onSessionError(fn) {
    return this.on("error", fn);
  }

  _setState(state) {
    if (this._state === state) return;
    this._state = state;
    this.emit("meeting-state-changed", { state });
  }

  _error(info) {
    this.emit("error", info);
    return new ParleyError(info);
  }

  /** 3035 for calls that need a joined meeting: emitted and rejected. */
  _guard(action) {
    if (this._joined && this._state === STATES.CONNECTED) return null;
    return Promise.reject(this._error(localError(errors.ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, { action })));
  }

  // ---- transport -------------------------------------------------------

  _send(msg) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) {
      this._ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  _request(type, fields = {}, quiet = null) {
    const id = `r${++this._seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new ParleyError({ code: -1, name: "TIMEOUT", message: `no answer to ${type}` }));
      }, REQUEST_TIMEOUT_MS);
      this._pending.set(id, { resolve, reject, timer, quiet });
      if (!this._send({ type, id, ...fields })) {
        clearTimeout(timer);
        this._pending.delete(id);
        reject(new ParleyError({ code: -1, name: "NOT_CONNECTED", message: `cannot send ${type}: not connected` }));
      }
    });
  }

  _open(first) {
    let ws;
    try {
      ws = new WebSocket(signalingUrl(this._opts.url), "parley.v1");
    } catch (e) {
      this._dropped(ws, first);
      return;
    }
    this._ws = ws;
    ws.onopen = () => {
      if (this._ws !== ws) return;
      const o = this._opts;
      if (first) {
        this._send({ type: "join", id: "join", token: this._token, meetingId: this.id,
          participantId: this.localParticipant.id, name: o.name || "", mode: o.mode || "CONFERENCE",
          micEnabled: !!o.micEnabled, webcamEnabled: !!o.webcamEnabled });
      } else {
        this._send({ type: "reconnect", id: "reconnect", token: this._token, meetingId: this.id,
          participantId: this.localParticipant.id, secret: this._secret });
      }
    };
    ws.onmessage = (ev) => {
      if (this._ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this._receive(msg);
    };
    ws.onclose = () => this._dropped(ws, first);
  }

  _dropped(ws, first) {
    if (ws && this._ws !== ws) return;
    this._ws = null;
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ParleyError({ code: -1, name: "NOT_CONNECTED", message: "the connection closed" }));
    }
    this._pending.clear();
    if (this._left) return;
    if (!this._joined && first) {
      // The first connection never got as far as `joined`.
      this._finish(leaveReason(leaveReasons.JOIN_ROOM_FAILED, "cannot reach the Parley server"), true);
      return;
    }
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    clearInterval(this._ping);
    const rc = this._reconnect;
    if (this._attempt >= rc.attempts) {
      this._finish(leaveReason(leaveReasons.WEBSOCKET_CONNECTION_ATTEMPTS_EXHAUSTED), true);
      return;
    }
    this._setState(STATES.RECONNECTING);
    const ms = Math.min(rc.maxMs, rc.minMs * 2 ** this._attempt);
    this._attempt++;
    this._timer = setTimeout(() => this._open(false), ms);
  }

  _finish(reason, failed) {
    if (this._left) return;
    this._left = true;
    this._joined = false;
    clearTimeout(this._timer);
    clearInterval(this._ping);
    if (this._ws) {
      const ws = this._ws;
      this._ws = null;
      try {
        ws.close();
      } catch {
        /* closing anyway */
      }
    }
    for (const kind of Object.keys(this._media)) this._stopLocal(kind);
    this._closeMedia();
    if (this._joinWaiter) {
      this._joinWaiter.reject(new ParleyError(reason));
      this._joinWaiter = null;
    }
    this._setState(failed ? STATES.FAILED : STATES.DISCONNECTED);
    this.emit("meeting-left", reason);
  }

  _receive(msg) {
    const pending = msg.id ? this._pending.get(msg.id) : null;
    switch (msg.type) {
      case "response":
        if (pending) {
          clearTimeout(pending.timer);
          this._pending.delete(msg.id);
          pending.resolve(msg);
        }
        return;
      case "error": {
        const { type, id, ...info } = msg;
        const err = pending && pending.quiet && pending.quiet.includes(info.code) ? new ParleyError(info) : this._error(info);
        if (pending) {
          clearTimeout(pending.timer);
          this._pending.delete(msg.id);
          pending.reject(err);
        } else if (msg.id === "join" && this._joinWaiter && msg.fatal) {
          this._joinWaiter.reject(err);
          this._joinWaiter = null;
        } else if (msg.id === "reconnect" && !msg.fatal && this._ws) {
          this._ws.close(); // refused for now (106): the next attempt follows
        }
        return;
      }
      case "joined":
        return this._onJoined(msg);
      case "waiting":
        this.emit("entry-waiting", { meetingId: msg.meetingId });
        return;
      case "participant-joined": {
        const p = new Participant(msg.participant);
        this.participants.set(p.id, p);
        this.emit("participant-joined", p);
        return;
      }
      case "participant-left": {
        const p = this.participants.get(msg.participantId) || new Participant({ participantId: msg.participantId });
        this._dropSub(msg.participantId, false);
        this.participants.delete(msg.participantId);
        this.emit("participant-left", p, msg.reason);
        return;
      }
      case "entry-requested":
        this.emit("entry-requested", {
          participantId: msg.participantId,
          name: msg.name,
          allow: () => this.respondEntry(msg.participantId, "allowed"),
          deny: () => this.respondEntry(msg.participantId, "denied"),
        });
        return;
      case "entry-responded":
        this.emit("entry-responded", msg.participantId, msg.decision);
        return;
      case "mode-changed": {
        const p = msg.participantId === this.localParticipant.id ? this.localParticipant : this.participants.get(msg.participantId);
        if (p) p.mode = msg.mode;
        if (p === this.localParticipant && msg.mode === "VIEWER" && this._pub) {
          // The server ended the published media.
          this._pub.pc.close();
          this._pub = null;
        }
        this.emit("participant-mode-changed", { participantId: msg.participantId, mode: msg.mode });
        return;
      }
      case "lock-changed":
        this.locked = !!msg.locked;
        this.emit("lock-changed", { locked: this.locked, by: msg.by });
        return;
      case "publish-changed": {
        const p = this.participants.get(msg.participantId);
        if (p) {
          p.micOn = !!msg.audio;
          p.webcamOn = !!msg.video;
          p.emit("media-status-changed", { audio: p.micOn, video: p.webcamOn });
        }
        this.emit("publish-changed", { participantId: msg.participantId, audio: !!msg.audio, video: !!msg.video });
        return;
      }
      case "meeting-left":
        this._finish(msg.reason || leaveReason(leaveReasons.UNKNOWN), !this._joined && !this._wasJoined);
        return;
      case "pong":
        return;
      case "stream-enabled":
      case "stream-disabled": {
        // Any change of a publication ends its subscriptions: subscribe again.
        // (unsubscribe too: a subscribe sent before the change may have been
        // taken for the new publication, whose offer is then not answered.)
        if (msg.type === "stream-enabled") this._subscribe(msg.participantId);
        else this._dropSub(msg.participantId, true);
        const source = msg.source || (msg.kind === "audio" ? "microphone" : "camera");
        this.emit(msg.type, { participantId: msg.participantId, kind: KIND_OF_SOURCE[source] || msg.kind, source, trackId: msg.trackId });
        return;
      }
      case "subscribe-offer":
        this._answerSub(msg).catch(() => {});
        return;
      default: {
        // mute-requested, chat, synchronizer-changed, sync-data: as sent.
        const { type, ...rest } = msg;
        this.emit(type, rest);
      }
    }
  }

  _onJoined(msg) {
    this._secret = msg.secret;
    this._attempt = 0;
    this.localParticipant.id = msg.participantId;
    this.localParticipant.displayName = msg.name;
    this.localParticipant.mode = msg.mode;
    this.locked = !!msg.locked;
    this.permissions = msg.permissions || [];
    clearInterval(this._ping);
    this._ping = setInterval(() => this._send({ type: "ping" }), PING_MS);
    const reconnected = !!msg.reconnected && this._wasJoined;
    this._joined = true;
    this._wasJoined = true;
    if (reconnected) {
      // Catch up with who came and went while the connection was down.
      const now = new Map((msg.participants || []).map((p) => [p.participantId, p]));
      for (const [id, p] of [...this.participants]) {
        if (!now.has(id)) {
          this.participants.delete(id);
          this.emit("participant-left", p, leaveReason(leaveReasons.UNKNOWN, "left while this connection was down"));
        }
      }
      for (const [id, p] of now) {
        if (!this.participants.has(id)) {
          const np = new Participant(p);
          this.participants.set(id, np);
          this.emit("participant-joined", np);
        }
      }
      // The server ended this participant's media with the old connection:
      // publish again, and subscribe again as its stream-enabled arrive.
      this._resetMedia();
      this._setState(STATES.CONNECTED);
      this.emit("meeting-reconnected", {});
      this._publish().catch(() => {});
      return;
    }
    for (const p of msg.participants || []) this.participants.set(p.participantId, new Participant(p));
    this.emit("meeting-joined", { meetingId: msg.meetingId, sessionId: msg.sessionId });
    this._setState(STATES.CONNECTED);
    for (const p of this.participants.values()) this.emit("participant-joined", p);
    if (this._joinWaiter) {
      this._joinWaiter.resolve();
      this._joinWaiter = null;
    }
    // Streams already published arrive as stream-enabled right after joined.
    // Devices asked for at init (not for a VIEWER): failures show as error
    // events only; both are published together on one offer.
    if (msg.mode === "VIEWER") return;
    const asked = [];
    if (this._opts.webcamEnabled && !this._media.video) asked.push(this.enableWebcam().catch(() => {}));
    if (this._opts.micEnabled && !this._media.audio) asked.push(this.unmuteMic().catch(() => {}));
    if (asked.length) {
      this._pubHold++;
      Promise.all(asked).then(() => {
        this._pubHold--;
        this._syncPublish();
      });
    }
  }

  // ---- lifecycle -------------------------------------------------------

  /** Connect and join; resolves at meeting-joined, rejects with the error
   * that refused the join (also emitted). */
  join() {
    if (this._state !== null)
      return Promise.reject(new ParleyError({ code: -1, name: "INVALID_STATE", message: "join() was already called on this meeting" }));
    return new Promise((resolve, reject) => {
      this._joinWaiter = { resolve, reject };
      this._setState(STATES.CONNECTING);
      this._open(true);
    });
  }

  /** Leave: meeting-left with 1101. Before joining, rejects (3035 is
   * not emitted for it) unless a join is under way, which it aborts. */
  leave() {
    if (this._left) return Promise.resolve();
    if (!this._joined) {
      if (this._state === STATES.CONNECTING || this._state === STATES.RECONNECTING) {
        this._finish(leaveReason(leaveReasons.MANUAL_LEAVE_CALLED), false);
        return Promise.resolve();
      }
      return Promise.reject(new ParleyError(localError(errors.ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, { action: "leave" })));
    }
    this._send({ type: "leave", id: `r${++this._seq}` });
    // The server answers with meeting-left 1101 and closes; finish anyway.
    this._finish(leaveReason(leaveReasons.MANUAL_LEAVE_CALLED), false);
    return Promise.resolve();
  }

  /** End the meeting for everyone (allow_mod). */
  end() {
    return this._guard("end") || this._request("end");
  }

  changeMode(mode, participantId) {
    if (!MODES.includes(mode))
      return Promise.reject(new ParleyError({ code: -1, name: "INVALID_MODE", message: `unknown mode ${mode}` }));
    return this._guard("changeMode") || this._request("change-mode", participantId ? { mode, participantId } : { mode });
  }

  respondEntry(participantId, decision) {
    const d = decision === true || decision === "allowed" || decision === "allow" ? "allowed" : "denied";
    return this._guard("respondEntry") || this._request("entry-response", { participantId, decision: d });
  }

  lock() {
    return this._guard("lock") || this._request("lock");
  }

  unlock() {
    return this._guard("unlock") || this._request("unlock");
  }

  removeParticipant(participantId) {
    return this._guard("removeParticipant") || this._request("remove-participant", { participantId });
  }

  sendChat(topic, message) {
    return this._guard("sendChat") || this._request("chat", { topic, message });
  }

  // ---- local media -----------------------------------------------------

  enableWebcam(customTrack) {
    return this._guard("enableWebcam") || this._enable("video", customTrack || this._opts.customCameraVideoTrack);
  }

  disableWebcam() {
    return this._guard("disableWebcam") || this._disable("video");
  }

  unmuteMic(customTrack) {
    return this._guard("unmuteMic") || this._enable("audio", customTrack || this._opts.customMicrophoneAudioTrack);
  }

  muteMic() {
    return this._guard("muteMic") || this._disable("audio");
  }

  enableScreenShare() {
    return this._guard("enableScreenShare") || this._enable("share", null);
  }

  disableScreenShare() {
    return this._guard("disableScreenShare") || this._disable("share");
  }

  /** A custom track, checked: the track to use, or null to use the device
   * (after emitting 3029/3030 or 3031/3032). */
  _checkCustom(kind, custom) {
    if (!custom) return null;
    let track = custom;
    if (typeof MediaStream !== "undefined" && custom instanceof MediaStream)
      track = (kind === "video" ? custom.getVideoTracks() : custom.getAudioTracks())[0];
    const valid = typeof MediaStreamTrack !== "undefined" && track instanceof MediaStreamTrack && track.kind === kind;
    if (!valid) {
      this._error(localError(deviceErrorCode("InvalidCustomTrack", "", kind), { kind }));
      return null;
    }
    if (track.readyState === "ended") {
      this._error(localError(deviceErrorCode("CustomTrackEnded", "", kind), { kind }));
      return null;
    }
    return track;
  }

  async _acquire(kind) {
    const md = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
    const fn = kind === "share" ? "getDisplayMedia" : "getUserMedia";
    if (!md || typeof md[fn] !== "function") {
      const code = deviceErrorCode("NoMediaDevices", "", kind === "share" ? "screen" : kind);
      throw this._error(localError(code, { kind, cause: "navigator.mediaDevices is not available (an insecure origin?)" }));
    }
    try {
      const stream = kind === "share" ? await md.getDisplayMedia({ video: true }) : await md.getUserMedia({ [kind]: true });
      const track = (kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks())[0];
      if (!track) throw Object.assign(new Error("no track came back"), { name: kind === "share" ? "NotAllowedError" : "NotFoundError" });
      return track;
    } catch (e) {
      const code = deviceErrorCode(e && e.name, e && e.message, kind === "share" ? "screen" : kind);
      throw this._error(localError(code, { kind, cause: `${e && e.name}: ${e && e.message}` }));
    }
  }

  async _enable(kind, custom) {
    if (this._media[kind]) return this._media[kind].track;
    let track = kind === "share" ? null : this._checkCustom(kind, custom);
    if (!track) track = await this._acquire(kind);
    if (track.readyState === "ended") {
      throw this._error(localError(deviceErrorCode("TrackEnded", "", kind), { kind }));
    }
    const stream = { kind, track };
    const onEnded = () => this._trackEnded(kind, track);
    track.addEventListener("ended", onEnded);
    this._media[kind] = { track, stream, onEnded };
    this.localParticipant.streams.set(kind, stream);
    if (kind === "video") this.localParticipant.webcamOn = true;
    if (kind === "audio") this.localParticipant.micOn = true;
    this.localParticipant.emit("stream-enabled", stream);
    try {
      await this._publish();
    } catch (e) {
      this._stopLocal(kind);
      throw e;
    }
    return track;
  }

  async _disable(kind) {
    if (!this._media[kind]) return;
    this._stopLocal(kind);
    await this._publish();
  }

  /** A published track that ended (device unplugged, permission revoked,
   * the browser's own "stop sharing"): 3027/3028 for camera and mic. */
  _trackEnded(kind, track) {
    const m = this._media[kind];
    if (!m || m.track !== track) return;
    if (kind !== "share") this._error(localError(deviceErrorCode("TrackEnded", "", kind), { kind }));
    this._stopLocal(kind);
    if (this._joined) this._publish().catch(() => {});
  }

  _stopLocal(kind) {
    const m = this._media[kind];
    if (!m) return;
    this._media[kind] = null;
    m.track.removeEventListener("ended", m.onEnded);
    try {
      m.track.stop();
    } catch {
      /* already stopped */
    }
    this.localParticipant.streams.delete(kind);
    if (kind === "video") this.localParticipant.webcamOn = false;
    if (kind === "audio") this.localParticipant.micOn = false;
    this.localParticipant.emit("stream-disabled", m.stream);
  }

  /** Tell the server what we mean to send (publish {audio, video}, or
   * unpublish when nothing is on), then bring the media in line. */
  _publish() {
    const audio = !!this._media.audio;
    const video = !!this._media.video;
    const screen = !!this._media.share;
    const r = audio || video || screen ? this._request("publish", { audio, video, screen }) : this._request("unpublish");
    return r.then((v) => {
      this._syncPublish();
      return v;
    });
  }

  /** The RTCPeerConnections in use: {publish: pc or null, subscriptions:
   * Map publisher id -> pc}. For diagnostics (getStats()); not to be driven. */
  peerConnections() {
    return { publish: this._pub ? this._pub.pc : null,
      subscriptions: new Map([...this._subs].map(([id, s]) => [id, s.pc])) };
  }

  // ---- media -----------------------------------------------------------

  /** Publish the current local tracks, soon and one change at a time. */
  _syncPublish(delay = 0) {
    if (this._pubHold || this._pubTimer) return;
    this._pubTimer = setTimeout(() => {
      this._pubTimer = null;
      const run = () => this._publishMedia().catch(() => {});
      this._pubChain = this._pubChain.then(run, run);
    }, delay);
  }

  /** Watch a media connection: onFail() once when its ICE or DTLS fails, or
   * its ICE stays disconnected for ICE_DISCONNECTED_MS; onUp() when it
   * connects. */
  _watchIce(pc, onFail, onUp) {
    let timer = null, done = false;
    const fail = () => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      onFail();
    };
    const check = () => {
      const ice = pc.iceConnectionState;
      if (pc.signalingState === "closed") {
        done = true;
        clearTimeout(timer);
      } else if (ice === "failed" || pc.connectionState === "failed") {
        fail();
      } else if (ice === "disconnected") {
        if (!timer) timer = setTimeout(() => { timer = null; if (pc.iceConnectionState === "disconnected") fail(); }, ICE_DISCONNECTED_MS);
      } else {
        clearTimeout(timer);
        timer = null;
        if (ice === "connected" || ice === "completed") onUp();
      }
    };
    pc.addEventListener("iceconnectionstatechange", check);
    pc.addEventListener("connectionstatechange", check);
  }

  async _publishMedia() {
    if (!this._joined || this._state !== STATES.CONNECTED || typeof RTCPeerConnection === "undefined" ||
      this.localParticipant.mode === "VIEWER") return;
    const track = (kind) => (this._media[kind] ? this._media[kind].track : null);
    const want = { audio: track("audio"), video: track("video"), share: track("share") };
    const kinds = Object.keys(want).filter((k) => want[k]);
    const cur = this._pub;
    if (cur && !cur.failed && kinds.length === Object.keys(cur.tracks).filter((k) => cur.tracks[k]).length &&
      kinds.every((k) => cur.tracks[k] === want[k])) return;
    if (cur) {
      cur.pc.close();
      this._pub = null;
      // Nothing left: the publish intent already sent unpublish.
      if (kinds.length) await this._request("unpublish");
    }
    if (!kinds.length) return;
    const pc = new RTCPeerConnection(PC_CONFIG);
    const pub = { pc, tracks: want, failed: false };
    this._pub = pub;
    const stream = new MediaStream(kinds.map((k) => want[k]));
    const transceivers = kinds.map((k) => [k, pc.addTransceiver(want[k], { direction: "sendonly", streams: [stream] })]);
    this._watchIce(pc, () => {
      if (this._pub !== pub) return;
      pub.failed = true;
      const n = this._pubRetries = (this._pubRetries || 0) + 1;
      this._syncPublish(MEDIA_RETRY_MS[Math.min(n, MEDIA_RETRY_MS.length) - 1]);
    }, () => { if (this._pub === pub) this._pubRetries = 0; });
    let offered = false;
    try {
      await pc.setLocalDescription(await pc.createOffer());
      offered = true;
      const sources = {};
      for (const [k, t] of transceivers) sources[t.mid] = SOURCE_OF_KIND[k];
      const offer = { sdp: pc.localDescription.sdp, sources };
      if (this._pub !== pub) return pc.close();
      let r;
      try {
        r = await this._request("publish-offer", offer, [errors.MEDIA_ENDPOINT_ERROR_CODE]);
      } catch (e) {
        // 303: the server still holds a publication this client gave up on.
        if (!(e instanceof ParleyError) || e.code !== errors.MEDIA_ENDPOINT_ERROR_CODE || this._pub !== pub) throw e;
        await this._request("unpublish");
        r = await this._request("publish-offer", offer);
      }
      if (this._pub !== pub) return;
      await pc.setRemoteDescription({ type: "answer", sdp: r.sdp });
    } catch (e) {
      pc.close();
      if (this._pub === pub) this._pub = null;
      // The server's refusals are error events already; the browser's own
      // failures are reported as the media endpoint's.
      if (!(e instanceof ParleyError))
        this._error(localError(errors.MEDIA_ENDPOINT_ERROR_CODE, { kind: "publish", cause: `${e && e.name}: ${e && e.message}`, offered }));
    }
  }

  /** Subscribe to a publisher unless already done. A 105 (it publishes
   * nothing, or no longer: its stream-disabled is on the way) is not an
   * error event; a 303 (the server holds a subscription this client gave up
   * on) is answered by unsubscribe and one more try. The subscribe-offer
   * that follows is the one of the last subscribe answered (`acked`). */
  _subscribe(id) {
    if (id === this.localParticipant.id || this._subs.has(id) || typeof RTCPeerConnection === "undefined") return;
    const sub = { id, pc: new RTCPeerConnection(PC_CONFIG), streams: [], sources: new Map() };
    this._subs.set(id, sub);
    sub.pc.ontrack = (ev) => {
      if (this._subs.get(id) !== sub) return;
      const source = sub.sources.get(ev.transceiver && ev.transceiver.mid);
      const stream = { kind: KIND_OF_SOURCE[source] || ev.track.kind, track: ev.track };
      sub.streams.push(stream);
      const p = this.participants.get(id);
      if (p) {
        p.streams.set(stream.kind, stream);
        p.emit("stream-enabled", stream);
      }
    };
    this._watchIce(sub.pc, () => this._subFailed(sub), () => { sub.retries = 0; });
    const codes = [errors.MEDIA_ENDPOINT_ERROR_CODE, errors.USER_NOT_STREAMING_ERROR_CODE];
    this._request("subscribe", { participantId: id }, codes)
      .then(() => { sub.acked = true; })
      .catch(async (e) => {
        if (this._subs.get(id) !== sub) return;
        if (e instanceof ParleyError && e.code === errors.MEDIA_ENDPOINT_ERROR_CODE && !sub.again) {
          sub.again = true;
          try {
            await this._request("unsubscribe", { participantId: id });
            if (this._subs.get(id) === sub) await this._request("subscribe", { participantId: id }, [errors.USER_NOT_STREAMING_ERROR_CODE]);
            sub.acked = true;
            return;
          } catch {
            /* dropped below */
          }
        } else if (e instanceof ParleyError && e.code === errors.MEDIA_ENDPOINT_ERROR_CODE) {
          this._error(e);
        }
        this._dropSub(id, false, sub);
      });
  }

  /** A subscription whose connection failed: end it and subscribe again. */
  _subFailed(sub) {
    if (this._subs.get(sub.id) !== sub) return;
    const n = (sub.retries || 0) + 1;
    this._dropSub(sub.id, true, sub);
    setTimeout(() => {
      if (this._state !== STATES.CONNECTED || this._subs.has(sub.id) || !this.participants.has(sub.id)) return;
      this._subscribe(sub.id);
      const again = this._subs.get(sub.id);
      if (again) again.retries = n;
    }, MEDIA_RETRY_MS[Math.min(n, MEDIA_RETRY_MS.length) - 1]);
  }

  async _answerSub(msg) {
    const sub = this._subs.get(msg.participantId);
    if (!sub || !sub.acked || sub.offered) return; // an offer of a subscription given up
    sub.offered = true;
    try {
      sub.sources = new Map((msg.tracks || []).map((t) => [t.mid, t.source]));
      await sub.pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      await sub.pc.setLocalDescription(await sub.pc.createAnswer());
      if (this._subs.get(msg.participantId) !== sub) return;
      // 105: the server ended this exchange meanwhile (the publication
      // ended or was replaced); its stream-disabled is on the way.
      await this._request("subscribe-answer", { participantId: sub.id, sdp: sub.pc.localDescription.sdp },
        [errors.USER_NOT_STREAMING_ERROR_CODE]);
    } catch (e) {
      if (this._subs.get(msg.participantId) !== sub) return;
      this._dropSub(sub.id, true, sub);
      if (!(e instanceof ParleyError))
        this._error(localError(errors.MEDIA_ENDPOINT_ERROR_CODE, { participantId: sub.id, cause: `${e && e.name}: ${e && e.message}` }));
    }
  }

  /** End the subscription to a publisher: close it, stream-disabled for its
   * tracks, and unsubscribe when the server still holds it. */
  _dropSub(id, unsubscribe, only = null) {
    const sub = this._subs.get(id);
    if (!sub || (only && sub !== only)) return;
    this._subs.delete(id);
    sub.pc.close();
    const p = this.participants.get(id);
    for (const s of sub.streams) {
      if (p && p.streams.get(s.kind) === s) p.streams.delete(s.kind);
      if (p) p.emit("stream-disabled", s);
    }
    if (unsubscribe && this._joined && this._state === STATES.CONNECTED)
      this._request("unsubscribe", { participantId: id }, [errors.USER_NOT_FOUND_ERROR_CODE]).catch(() => {});
  }

  /** After a reconnection: the server ended every exchange of the old
   * connection, so close them here without telling it (the remote streams
   * are disabled, to be enabled again by the new subscriptions). */
  _resetMedia() {
    clearTimeout(this._pubTimer);
    this._pubTimer = null;
    if (this._pub) {
      this._pub.pc.close();
      this._pub = null;
    }
    this._pubRetries = 0;
    for (const id of [...this._subs.keys()]) this._dropSub(id, false);
  }

  _closeMedia() {
    this._resetMedia();
  }
}

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
