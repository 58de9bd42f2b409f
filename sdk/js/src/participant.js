// participant.js - one participant of the meeting: who it is (id, name,
// mode), its streams (kind "audio", "video" or "share" -> {kind, track}) and
// what it publishes: micOn, webcamOn and screenShareOn, derived from the
// sources of its published tracks (a screen share is not a camera).
import { Emitter } from "./base.js";

/** One participant; the local one also holds the local streams. */
export class Participant extends Emitter {
  constructor(p, local = false) {
    super();
    this.id = p.participantId;
    this.displayName = p.name || "";
    this.mode = p.mode || "CONFERENCE";
    // What the participant publishes, from the sources of its tracks
    // (stream-enabled / stream-disabled): a screen share is not a camera.
    this.micOn = false;
    this.webcamOn = false;
    this.screenShareOn = false;
    this.local = local;
    this.streams = new Map(); // kind ("video", "audio", "share") -> {kind, track}
    this._sources = new Set(); // published sources: "microphone", "camera", "screen"
  }

  /** A source published (on) or not: the flags follow; media-status-changed
   * when one of them changed. */
  _setSource(source, on) {
    if (on === this._sources.has(source)) return;
    if (on) this._sources.add(source);
    else this._sources.delete(source);
    this.micOn = this._sources.has("microphone");
    this.webcamOn = this._sources.has("camera");
    this.screenShareOn = this._sources.has("screen");
    this.emit("media-status-changed", { audio: this.micOn, video: this.webcamOn, screen: this.screenShareOn });
  }
}
