// demo.js - the demo page: join a room, see yourself, toggle devices, and
// watch every error event arrive with its code, name and message.
import { Parley } from "/sdk/parley.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let meeting = null;

// The form, prefilled from an invite link (?room=...&token=...).
$("room").value = params.get("room") || "";
$("token").value = params.get("token") || "";
$("name").value = localStorage.getItem("parley.name") || "";
if (!params.get("token")) document.querySelector(".advanced").hidden = true;

function showError(e) {
  $("no-errors").hidden = true;
  const li = document.createElement("li");
  li.dataset.code = e.code;
  const code = Object.assign(document.createElement("span"), { className: "code", textContent: e.code });
  const name = Object.assign(document.createElement("span"), { className: "name", textContent: e.name || "" });
  const when = Object.assign(document.createElement("span"), { className: "when", textContent: new Date().toLocaleTimeString() });
  name.append(when);
  const msg = Object.assign(document.createElement("span"), { className: "message", textContent: e.message || "" });
  li.append(code, name, msg);
  $("error-list").prepend(li);
}
$("clear-errors").onclick = () => {
  $("error-list").replaceChildren();
  $("no-errors").hidden = false;
};

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(j.message || `${path}: HTTP ${r.status}`), j);
  return j;
}

function setStatus(state) {
  $("status").dataset.state = state;
  $("status").textContent = state.toLowerCase();
}

function initials(name) {
  return (name || "?").trim().split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
}

function tile(p) {
  let t = document.querySelector(`.tile[data-id="${CSS.escape(p.id)}"]`);
  if (!t) {
    t = document.createElement("div");
    t.className = "tile";
    t.dataset.id = p.id;
    t.classList.toggle("speaking", meeting?.activeSpeakerId === p.id);
    t.innerHTML = `<div class="avatar"></div><span class="label"></span>`;
    $("grid").append(t);
  }
  t.querySelector(".avatar").textContent = initials(p.displayName);
  t.querySelector(".label").textContent = p.local ? `${p.displayName} (you)` : p.displayName;
  return t;
}

function showVideo(p, stream) {
  const t = tile(p);
  let v = t.querySelector("video");
  if (!v) {
    v = document.createElement("video");
    v.autoplay = v.muted = v.playsInline = true;
    t.prepend(v);
  }
  v.srcObject = new MediaStream([stream.track]);
  t.querySelector(".avatar").hidden = true;
}

function hideVideo(p) {
  const t = tile(p);
  t.querySelector("video")?.remove();
  t.querySelector(".avatar").hidden = false;
}

// A screen share: a tile of its own next to the participant's.
function showShare(p, stream) {
  let t = document.querySelector(`.tile[data-share="${CSS.escape(p.id)}"]`);
  if (!t) {
    t = document.createElement("div");
    t.className = "tile share";
    t.dataset.share = p.id;
    const v = Object.assign(document.createElement("video"), { autoplay: true, muted: true, playsInline: true });
    t.append(v, Object.assign(document.createElement("span"), { className: "label" }));
    tile(p).after(t);
  }
  t.querySelector(".label").textContent = `${p.displayName}${p.local ? " (you)" : ""}: screen`;
  t.querySelector("video").srcObject = new MediaStream([stream.track]);
}

function hideShare(p) {
  document.querySelector(`.tile[data-share="${CSS.escape(p.id)}"]`)?.remove();
}

function showStream(p, s) {
  if (s.kind === "audio") playAudio(p, s);
  else if (s.kind === "share") showShare(p, s);
  else showVideo(p, s);
}

// A remote participant's audio: one <audio> element each (created after the
// Join click, so autoplay is allowed).
function playAudio(p, stream) {
  const t = tile(p);
  let a = t.querySelector("audio");
  if (!a) {
    a = document.createElement("audio");
    a.autoplay = true;
    t.append(a);
  }
  a.srcObject = new MediaStream([stream.track]);
  a.play().catch(() => {});
}

/** Show a remote participant's media as it comes and goes. */
function watchRemote(p) {
  if (p.local || p._demoWatched) return;
  p._demoWatched = true;
  p.on("stream-enabled", (s) => {
    showStream(p, s);
    if (s.kind === "share") renderPeople();
  });
  p.on("stream-disabled", (s) => {
    // Only if no newer stream of that kind replaced it meanwhile.
    if (p.streams.get(s.kind)) return;
    if (s.kind === "audio") tile(p).querySelector("audio")?.remove();
    else if (s.kind === "share") {
      hideShare(p);
      renderPeople();
    } else hideVideo(p);
  });
  for (const s of p.streams.values()) showStream(p, s);
}

function renderPeople() {
  const list = $("people");
  list.replaceChildren();
  const all = [meeting.localParticipant, ...meeting.participants.values()];
  for (const p of all) {
    const li = document.createElement("li");
    li.textContent = p.displayName || p.id;
    if (p.local) li.append(Object.assign(document.createElement("span"), { className: "me", textContent: "(you)" }));
    const media = [p.micOn ? "mic" : "", p.webcamOn ? "cam" : "", p.screenShareOn ? "screen" : ""].filter(Boolean).join(" · ");
    li.append(Object.assign(document.createElement("span"), { className: "media", textContent: media || "no media" }));
    list.append(li);
  }
  $("count").textContent = all.length;
}

function toggles() {
  const lp = meeting.localParticipant;
  const set = (id, on, onText, offText) => {
    $(id).dataset.on = String(on);
    $(id).textContent = on ? onText : offText;
  };
  set("mic-btn", lp.streams.has("audio"), "Mute", "Unmute");
  set("cam-btn", lp.streams.has("video"), "Stop camera", "Start camera");
  set("screen-btn", lp.streams.has("share"), "Stop sharing", "Share screen");
}

async function join(ev) {
  ev.preventDefault();
  const name = $("name").value.trim() || "Guest";
  localStorage.setItem("parley.name", name);
  $("join-btn").disabled = true;
  $("join-hint").textContent = "";
  const participantId = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 24) || "guest"}-${Math.random().toString(36).slice(2, 6)}`;
  try {
    let room = $("room").value.trim();
    let token = $("token").value.trim();
    if (!room) room = (await post("/demo/room")).roomId;
    if (!token) token = (await post("/demo/token", { roomId: room })).token;
    $("room").value = room;
    start(room, token, name, participantId);
  } catch (e) {
    $("join-hint").textContent = e.code === 999
      ? "This server does not mint demo tokens (start it with --demo), so paste a token."
      : `Could not prepare the meeting: ${e.message}`;
    document.querySelector(".advanced").hidden = false;
    $("join-btn").disabled = false;
  }
}

function start(room, token, name, participantId) {
  Parley.config(token);
  meeting = Parley.initMeeting({
    meetingId: room, participantId, name,
    webcamEnabled: $("cam-on").checked, micEnabled: $("mic-on").checked,
  });
  window.parleyMeeting = meeting;
  const lp = meeting.localParticipant;
  meeting.onSessionError(showError);
  meeting.on("meeting-state-changed", ({ state }) => setStatus(state));
  meeting.on("meeting-joined", () => {
    $("join").hidden = true;
    $("meeting").hidden = false;
    $("room-label").textContent = room;
    history.replaceState(null, "", `?room=${encodeURIComponent(room)}`);
    tile(lp);
    renderPeople();
    toggles();
  });
  meeting.on("meeting-left", (reason) => {
    showError({ code: reason.code, name: reason.name, message: `left the meeting: ${reason.message}` });
    $("meeting").hidden = true;
    $("join").hidden = false;
    $("join-btn").disabled = false;
    $("grid").replaceChildren();
  });
  meeting.on("participant-joined", (p) => { tile(p); watchRemote(p); renderPeople(); });
  meeting.on("participant-left", (p) => {
    document.querySelector(`.tile[data-id="${CSS.escape(p.id)}"]`)?.remove();
    hideShare(p);
    renderPeople();
  });
  meeting.on("publish-changed", renderPeople);
  meeting.on("stream-enabled", renderPeople);
  meeting.on("stream-disabled", renderPeople);
  // The active speaker's tile is highlighted.
  meeting.on("speaker-changed", (id) => {
    for (const t of document.querySelectorAll(".tile[data-id]")) t.classList.toggle("speaking", t.dataset.id === id);
  });
  meeting.on("entry-requested", (req) => {
    $("lobby").hidden = false;
    const li = document.createElement("li");
    li.textContent = req.name || req.participantId;
    const allow = Object.assign(document.createElement("button"), { className: "small", textContent: "admit" });
    const deny = Object.assign(document.createElement("button"), { className: "small", textContent: "deny" });
    allow.onclick = () => { req.allow(); li.remove(); };
    deny.onclick = () => { req.deny(); li.remove(); };
    li.append(allow, deny);
    $("waiting").append(li);
  });
  lp.on("stream-enabled", (s) => {
    if (s.kind === "video") showVideo(lp, s);
    if (s.kind === "share") showShare(lp, s);
    toggles();
    renderPeople();
  });
  lp.on("stream-disabled", (s) => {
    if (s.kind === "video") hideVideo(lp);
    if (s.kind === "share") hideShare(lp);
    toggles();
    renderPeople();
  });
  meeting.join().catch(() => { $("join-btn").disabled = false; });
}

const ignore = () => {};
$("join-form").addEventListener("submit", join);
$("mic-btn").onclick = () => (meeting.localParticipant.streams.has("audio") ? meeting.muteMic() : meeting.unmuteMic()).catch(ignore);
$("cam-btn").onclick = () => (meeting.localParticipant.streams.has("video") ? meeting.disableWebcam() : meeting.enableWebcam()).catch(ignore);
$("screen-btn").onclick = () => (meeting.localParticipant.streams.has("share") ? meeting.disableScreenShare() : meeting.enableScreenShare()).catch(ignore);
$("leave-btn").onclick = () => meeting.leave();
$("copy-btn").onclick = async () => {
  const link = `${location.origin}/?room=${encodeURIComponent(meeting.id)}`;
  try {
    await navigator.clipboard.writeText(link);
    $("copy-btn").textContent = "Link copied";
  } catch {
    prompt("Invite link", link);
  }
};
