// meeting.js - the Meeting: its state, the calls of the public API (join,
// leave, moderation, chat, local devices, peerConnections), the guard that
// refuses them before joining (3035), and leaving (_finish). The rest of
// its methods come from signaling.js (the WebSocket), room.js (what the
// server says), media.js (the peer connections) and devices.js (local
// capture).
import { errors, leaveReasons } from "./errors.js";
import { Emitter, MODES, ParleyError, STATES, leaveReason, localError, mixin } from "./base.js";
import { Participant } from "./participant.js";
import { RECONNECT, SignalingMethods } from "./signaling.js";
import { RoomMethods } from "./room.js";
import { MediaMethods } from "./media.js";
import { DeviceMethods } from "./devices.js";

function randomId() {
  const a = new Uint8Array(6);
  crypto.getRandomValues(a);
  return "p-" + Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Meeting extends Emitter {
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
    this.activeSpeakerId = null; // the loudest publisher (speaker-changed)
    this.activePresenterId = null; // who shares a screen (presenter-changed)
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

  /** The RTCPeerConnections in use: {publish: pc or null, subscriptions:
   * Map publisher id -> pc}. For diagnostics (getStats()); not to be driven. */
  peerConnections() {
    return { publish: this._pub ? this._pub.pc : null,
      subscriptions: new Map([...this._subs].map(([id, s]) => [id, s.pc])) };
  }
}

mixin(Meeting, SignalingMethods, RoomMethods, MediaMethods, DeviceMethods);
