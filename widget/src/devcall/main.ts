// A minimal provider call page for local development and the browser-to-
// browser test (served by the local server with -dev only, at /dev/call/):
// a provider token from POST /dev/token, online on the signaling socket,
// rings listed with an Accept button (the claim), then the call with the
// patient. It uses the same shared/call.ts as the patient's widget; the
// provider console's own call panel can be built the same way.
//
//   /dev/call/?provider=prov_tx_md

import { Call, CallEvent, fetchIceServers, signalUrlFor } from "../shared/call";

const app = document.getElementById("app") as HTMLElement;
const params = new URLSearchParams(location.search);
const providerID = params.get("provider") || "prov_tx_md";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text) e.textContent = text;
  return e;
}

const status = el("p", { id: "phase", role: "status", "aria-live": "polite", "data-phase": "starting" }, "Starting…");
const rings = el("ul", { id: "rings" });
const remote = el("video", { id: "remote-video", autoplay: "", playsinline: "", "aria-label": "Patient's video" });
const local = el("video", { id: "local-video", autoplay: "", playsinline: "", muted: "", "aria-label": "Your camera" });
local.muted = true;
const stage = el("div", { class: "stage with-remote" });
stage.append(remote, local);
const controls = el("div", { class: "controls" });
const mute = el("button", { type: "button", id: "mute", class: "secondary", "aria-pressed": "false" }, "Mute microphone");
const camera = el("button", { type: "button", id: "camera", class: "secondary", "aria-pressed": "false" }, "Turn camera off");
const hangUp = el("button", { type: "button", id: "hang-up", class: "danger" }, "Hang up");
const ring = el("button", { type: "button", id: "ring", class: "secondary" }, "Ring the patient");
controls.append(mute, camera, ring, hangUp);
app.textContent = "";
app.append(el("h1", {}, "Provider call (local development)"), el("p", { class: "hint" }, "Provider " + providerID), status, rings, stage, controls);

let call: Call | null = null;
let micOff = false;
let camOff = false;

function setPhase(p: string, text: string) {
  status.dataset.phase = p;
  status.textContent = text;
}

function onEvent(e: CallEvent) {
  switch (e.type) {
    case "socket":
      if (e.state === "open") setPhase("online", "Online: waiting for a patient's ring.");
      else if (e.state === "reconnecting") setPhase("reconnecting", "Reconnecting…");
      return;
    case "ring": {
      const m = e.msg;
      if (m.role === "provider") {
        setPhase("ringing", "Ringing the patient (ring " + (m.attempt || 1) + ")…");
        return;
      }
      if (m.action === "no_answer") {
        setPhase("no-answer", "The exam ended as not applicable: the patient did not answer.");
        return;
      }
      if (!m.exam_id || m.from) return;
      const existing = document.getElementById("ring-" + m.exam_id);
      if (m.action === "taken") {
        if (existing) existing.remove();
        return;
      }
      if (existing) return;
      const li = el("li", { id: "ring-" + m.exam_id }, `Exam ${m.exam_id} (${m.state || "?"}, ${(m.treatments || []).join(", ")}) `);
      const b = el("button", { type: "button", class: "primary accept", "data-exam": m.exam_id }, "Accept");
      b.addEventListener("click", () => {
        call!.accept(m.exam_id);
        li.remove();
        setPhase("joining", "Joining exam " + m.exam_id + "…");
      });
      li.append(b);
      rings.append(li);
      return;
    }
    case "joined":
      setPhase(e.peers.indexOf("patient") >= 0 ? "connecting" : "waiting", e.peers.indexOf("patient") >= 0 ? "Connecting to the patient…" : "In the room; the patient is not here.");
      return;
    case "peer-joined":
      setPhase("connecting", "The patient joined; connecting…");
      return;
    case "peer-left":
      remote.srcObject = null;
      setPhase("peer-left", "The patient left the call" + (e.reason ? " (" + e.reason + ")" : "") + ".");
      return;
    case "left":
      setPhase("online", "You left the call.");
      return;
    case "remote-stream":
      remote.srcObject = e.stream;
      remote.play().catch(() => {});
      return;
    case "connection":
      if (e.state === "connected") setPhase("call", "Connected with the patient.");
      else if (e.state === "failed") setPhase("failed", "The connection failed.");
      return;
    case "error":
      setPhase("error", "Error " + e.code + ": " + e.message);
      return;
  }
}

mute.addEventListener("click", () => {
  micOff = !micOff;
  mute.setAttribute("aria-pressed", String(micOff));
  call?.setMicMuted(micOff);
});
camera.addEventListener("click", () => {
  camOff = !camOff;
  camera.setAttribute("aria-pressed", String(camOff));
  call?.setCameraOff(camOff);
});
ring.addEventListener("click", () => call?.ringPatient());
hangUp.addEventListener("click", () => {
  call?.leave();
  remote.srcObject = null;
});

async function main() {
  let stream: MediaStream | null = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    local.srcObject = stream;
  } catch (e) {
    setPhase("no-camera", "No camera or microphone (" + String(e) + "): the call will only receive.");
  }
  const res = await fetch("/dev/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ provider_id: providerID }) });
  if (!res.ok) return setPhase("error", "No provider token: " + res.status);
  const token = ((await res.json()) as { token: string }).token;
  const base = location.href;
  call = new Call({ signalUrl: signalUrlFor(base), token, examId: "", role: "provider", iceServers: await fetchIceServers(base, token), localStream: stream, onEvent });
  call.open();
}

main().catch((e) => setPhase("error", String(e)));
