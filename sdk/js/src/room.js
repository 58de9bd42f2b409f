// room.js - the room as the server describes it: every message parleyd
// sends (_receive, docs/protocol.md §2.3) and the join or rejoin
// (_onJoined), kept as the participants map, their published sources, the
// active speaker (`active-speaker` -> speaker-changed, activeSpeakerId) and
// the presenter (a screen share -> presenter-changed, activePresenterId).
import { leaveReasons } from "./errors.js";
import { ParleyError, STATES, leaveReason } from "./base.js";
import { Participant } from "./participant.js";
import { PING_MS } from "./signaling.js";
import { KIND_OF_SOURCE } from "./media.js";

export class RoomMethods {
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
        this._sourceGone(msg.participantId, null);
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
        // The intent only: the flags follow the stream sources, but what is
        // no longer published is off.
        const p = this.participants.get(msg.participantId);
        if (p && !msg.audio) this._remoteSource(p, "microphone", false);
        if (p && !msg.video) {
          this._remoteSource(p, "camera", false);
          this._remoteSource(p, "screen", false);
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
        const p = this.participants.get(msg.participantId);
        if (p) this._remoteSource(p, source, msg.type === "stream-enabled");
        this.emit(msg.type, { participantId: msg.participantId, kind: KIND_OF_SOURCE[source] || msg.kind, source, trackId: msg.trackId });
        return;
      }
      case "subscribe-offer":
        this._answerSub(msg).catch(() => {});
        return;
      case "active-speaker":
        // The loudest publisher of the room (audio levels, docs/protocol.md §2.3).
        if (msg.participantId === this.localParticipant.id || this.participants.has(msg.participantId))
          this._setSpeaker(msg.participantId);
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
          this._sourceGone(id, null);
          this.emit("participant-left", p, leaveReason(leaveReasons.UNKNOWN, "left while this connection was down"));
        } else {
          // What stopped meanwhile; what is published comes as stream-enabled.
          const q = now.get(id);
          if (!q.audio) this._remoteSource(p, "microphone", false);
          if (!q.video) {
            this._remoteSource(p, "camera", false);
            this._remoteSource(p, "screen", false);
          }
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

  /** A remote participant's source published (stream-enabled) or not. */
  _remoteSource(p, source, on) {
    const was = p._sources.has(source);
    p._setSource(source, on);
    if (on && !was && source === "screen") this._setPresenter(p.id, true);
    if (!on) this._sourceGone(p.id, source);
  }

  /** A participant stops publishing a source, or leaves (source null): the
   * active speaker and presenter that depended on it are given up. */
  _sourceGone(id, source) {
    if ((!source || source === "microphone") && this.activeSpeakerId === id) this._setSpeaker(null);
    if (!source || source === "screen") this._setPresenter(id, false);
  }

  /** speaker-changed (id or null) when the active speaker changes. */
  _setSpeaker(id) {
    if (this.activeSpeakerId === id) return;
    this.activeSpeakerId = id;
    this.emit("speaker-changed", id);
  }

  /** A participant's screen share started (on) or stopped: presenter-changed
   * with the newest presenter, or with whoever else still shares, or null. */
  _setPresenter(id, on) {
    let next = this.activePresenterId;
    if (on) next = id;
    else if (next === id) {
      const other = [this.localParticipant, ...this.participants.values()].find((p) => p.screenShareOn && p.id !== id);
      next = other ? other.id : null;
    }
    if (next === this.activePresenterId) return;
    this.activePresenterId = next;
    this.emit("presenter-changed", next);
  }
}
