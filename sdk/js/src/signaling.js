// signaling.js - the WebSocket to parleyd (docs/protocol.md §2): requests
// and their answers (or timeouts), the keep-alive ping's period, a dropped
// connection and the reconnection with a doubling backoff (`reconnect` with
// the participant secret; when the attempts are used up, meeting-left 1102).
// Every message the server sends goes to _receive (room.js).
import { leaveReasons } from "./errors.js";
import { ParleyError, STATES, leaveReason } from "./base.js";

export const RECONNECT = { attempts: 8, minMs: 200, maxMs: 2000 };
const REQUEST_TIMEOUT_MS = 20000;
export const PING_MS = 20000;

function signalingUrl(url) {
  const base = url || (typeof location !== "undefined" ? location.origin : "");
  const u = new URL(base, typeof location !== "undefined" ? location.href : undefined);
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.pathname === "/" || u.pathname === "") u.pathname = "/v1/signaling";
  return u.toString();
}

export class SignalingMethods {
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
}
