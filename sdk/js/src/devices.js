// devices.js - the local camera, microphone and screen: a custom track
// checked, or the device asked for (getUserMedia / getDisplayMedia) with
// its failures mapped to catalog codes (device-errors.js,
// docs/browser-errors.md), a track that ends, and the local participant's
// streams and flags. Every change is published (media.js).
import { deviceErrorCode } from "./device-errors.js";
import { localError } from "./base.js";
import { SOURCE_OF_KIND } from "./media.js";

export class DeviceMethods {
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
    const m = { track, stream, onEnded };
    this._media[kind] = m;
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
    if (kind === "share" && this._media.share === m) {
      this.localParticipant.screenShareOn = true;
      this._setPresenter(this.localParticipant.id, true);
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
    if (kind === "share") this.localParticipant.screenShareOn = false;
    this._sourceGone(this.localParticipant.id, SOURCE_OF_KIND[kind]);
    this.localParticipant.emit("stream-disabled", m.stream);
  }
}
