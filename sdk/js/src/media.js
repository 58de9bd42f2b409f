// media.js - the RTCPeerConnections (docs/protocol.md §2.2, §2.6): the
// publish intent (`publish` / `unpublish`) and the publication (the local
// tracks on one connection, `publish-offer` naming each m-line's source),
// one subscription per publisher (`subscribe`, `subscribe-offer`,
// `subscribe-answer`), the watch on their ICE, an ICE restart on the same
// connection after a failure (ICE failed, or disconnected for
// ICE_DISCONNECTED_MS: restartIce and publish-offer {iceRestart}, or
// subscribe {iceRestart}), their replacement when that does not bring
// them back, and their replacement after a reconnection.
import { errors } from "./errors.js";
import { ParleyError, STATES, localError } from "./base.js";

const PC_CONFIG = { bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" };
const ICE_DISCONNECTED_MS = 4000; // a media connection disconnected this long is replaced
const MEDIA_RETRY_MS = [0, 500, 1000, 2000, 4000]; // delays between replacements in a row
const ICE_RESTART_MS = 6000; // an ICE restart not connected this long: the connection is replaced
// Local media kind -> the protocol's source, and back for remote tracks.
export const SOURCE_OF_KIND = Object.freeze({ audio: "microphone", video: "camera", share: "screen" });
export const KIND_OF_SOURCE = Object.freeze({ microphone: "audio", camera: "video", screen: "share" });

export class MediaMethods {
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
   * its ICE stays disconnected for ICE_DISCONNECTED_MS (once more only
   * after it has connected again); onUp() when it connects. */
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
        if (ice === "connected" || ice === "completed") {
          done = false;
          onUp();
        }
      }
    };
    pc.addEventListener("iceconnectionstatechange", check);
    pc.addEventListener("connectionstatechange", check);
  }

  /** Whether pc's ICE is connected (again) within ms. */
  _iceUp(pc, ms) {
    const up = () => (pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed") &&
      pc.connectionState !== "failed";
    if (up()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v) => {
        clearTimeout(timer);
        pc.removeEventListener("iceconnectionstatechange", check);
        pc.removeEventListener("connectionstatechange", check);
        resolve(v);
      };
      const check = () => {
        if (pc.signalingState === "closed") done(false);
        else if (up()) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      pc.addEventListener("iceconnectionstatechange", check);
      pc.addEventListener("connectionstatechange", check);
    });
  }

  /** The publication's ICE failed: an ICE restart on its connection (a new
   * offer, publish-offer {iceRestart: true}); true once it is connected
   * again. The server keeps the DTLS association, the publication and its
   * subscribers; a 303 (it no longer holds the publication) or no
   * connection in ICE_RESTART_MS is false. */
  async _restartPub(pub) {
    const pc = pub.pc;
    try {
      pc.restartIce();
      await pc.setLocalDescription(await pc.createOffer());
      if (this._pub !== pub) return false;
      const r = await this._request("publish-offer", { sdp: pc.localDescription.sdp, sources: pub.sources, iceRestart: true },
        [errors.MEDIA_ENDPOINT_ERROR_CODE]);
      if (this._pub !== pub) return false;
      await pc.setRemoteDescription({ type: "answer", sdp: r.sdp });
      return this._pub === pub && await this._iceUp(pc, ICE_RESTART_MS);
    } catch {
      return false;
    }
  }

  /** A subscription's ICE failed: subscribe {iceRestart: true}, the new
   * subscribe-offer answered on the same connection; true once it is
   * connected again. A 102 (the server no longer holds it), a 303 or no
   * connection in ICE_RESTART_MS is false. */
  async _restartSub(sub) {
    const live = () => this._subs.get(sub.id) === sub;
    let timer = null;
    const offer = new Promise((resolve, reject) => {
      sub.restart = resolve;
      timer = setTimeout(() => reject(new Error("no subscribe-offer")), ICE_RESTART_MS);
    });
    offer.catch(() => {});
    try {
      await this._request("subscribe", { participantId: sub.id, iceRestart: true },
        [errors.USER_NOT_FOUND_ERROR_CODE, errors.MEDIA_ENDPOINT_ERROR_CODE, errors.USER_NOT_STREAMING_ERROR_CODE]);
      const msg = await offer;
      if (!live()) return false;
      await sub.pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      await sub.pc.setLocalDescription(await sub.pc.createAnswer());
      if (!live()) return false;
      await this._request("subscribe-answer", { participantId: sub.id, sdp: sub.pc.localDescription.sdp },
        [errors.USER_NOT_STREAMING_ERROR_CODE, errors.MEDIA_ENDPOINT_ERROR_CODE]);
      return live() && await this._iceUp(sub.pc, ICE_RESTART_MS);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      sub.restart = null;
    }
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
    const replace = () => {
      if (this._pub !== pub) return;
      pub.failed = true;
      const n = this._pubRetries = (this._pubRetries || 0) + 1;
      this._syncPublish(MEDIA_RETRY_MS[Math.min(n, MEDIA_RETRY_MS.length) - 1]);
    };
    this._watchIce(pc, () => {
      if (this._pub !== pub) return;
      if (!pub.answered) return replace(); // nothing to restart yet
      // an ICE restart first, one publication change at a time
      const run = async () => {
        if (this._pub === pub && !(await this._restartPub(pub))) replace();
      };
      this._pubChain = this._pubChain.then(run, run);
    }, () => { if (this._pub === pub) this._pubRetries = 0; });
    let offered = false;
    try {
      await pc.setLocalDescription(await pc.createOffer());
      offered = true;
      const sources = {};
      for (const [k, t] of transceivers) sources[t.mid] = SOURCE_OF_KIND[k];
      const offer = { sdp: pc.localDescription.sdp, sources };
      pub.sources = sources;
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
      pub.answered = true;
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

  /** A subscription whose connection failed: an ICE restart first; when
   * that fails, end it and subscribe again. */
  async _subFailed(sub) {
    if (this._subs.get(sub.id) !== sub) return;
    if (sub.answered && !sub.restart && await this._restartSub(sub)) return;
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
    if (sub && sub.restart) return sub.restart(msg); // the offer of an ICE restart (_restartSub)
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
      sub.answered = true;
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
