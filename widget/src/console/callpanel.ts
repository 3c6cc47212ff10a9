// The provider's call panel (issues 7 and 8). One signaling socket per
// signed-in console (shared/call.ts, role provider): while it is open the
// provider is online and rung for video exams they may take; accepting a
// ring is the claim (the server claims and joins the room in one step).
// For a held video exam the panel shows the camera preview (with help
// when the browser blocks or lacks a camera), joins the exam's room, shows
// the patient's video, mutes, turns the camera off, rings a patient who
// left, hangs up, and rides out network blips: the socket reconnects and
// joins again, and the provider offers again on a new peer connection.
//
// The panel's element is built once and re-attached by every render of
// the review, so its videos and streams survive re-renders.

import { Call, CallEvent, SignalMessage, fetchIceServers, signalUrlFor } from "../shared/call";
import { clear, h } from "../shared/ui";

export type Phase =
  | "idle" | "checking" | "joining" | "waiting" | "ringing" | "connecting" | "call"
  | "reconnecting" | "peer-left" | "ended" | "no-answer" | "replaced" | "error";

// NO_SHOW_RINGS mirrors exam.NoShowRings: after this many unanswered rings
// the provider may end the exam as not applicable.
const NO_SHOW_RINGS = 2;

export interface PhoneDeps {
  // base is the API's origin (ICE servers, and the socket unless signal).
  base: string;
  // signal is the signaling WebSocket's URL when it is elsewhere.
  signal?: string;
  token: string;
  // onRing: a waiting patient's exam the provider may take (or, with
  // action "taken", one another provider accepted).
  onRing: (m: SignalMessage) => void;
  // onAccepted: the accepted exam is claimed and its room joined.
  onAccepted: (examId: string) => void;
  // onRefused: the accept failed (taken meanwhile, not eligible).
  onRefused: (examId: string, message: string) => void;
  // onNoShow: the exam ended as not applicable after unanswered rings.
  onNoShow: (examId: string) => void;
  // onSocket: the signaling socket's state (online for rings or not).
  onSocket: (state: "connecting" | "open" | "reconnecting" | "closed") => void;
}

// cameraHelp explains a getUserMedia failure to the provider.
function cameraHelp(e: unknown): string {
  const name = (e as DOMException)?.name || "";
  if (name === "NotAllowedError" || name === "SecurityError")
    return "Your browser blocked the camera and microphone for this site. Allow them (the camera icon in the address bar, or the site settings), then choose Try the camera again.";
  if (name === "NotFoundError" || name === "OverconstrainedError")
    return "No camera or microphone was found. Connect one, then choose Try the camera again.";
  if (name === "NotReadableError" || name === "AbortError")
    return "Your camera or microphone is in use by another application or tab. Close it, then choose Try the camera again.";
  return "The camera and microphone could not be started (" + (name || String(e)) + ").";
}

export class Phone {
  readonly el: HTMLElement;
  private d: PhoneDeps;
  private call: Call;
  private phase: Phase = "idle";
  private exam: string | null = null; // the exam the panel is for
  private accepting: string | null = null;
  private stream: MediaStream | null = null;
  private micOff = false;
  private camOff = false;
  private rings = 0;
  private status: HTMLElement;
  private help: HTMLElement;
  private stage: HTMLElement;
  private local: HTMLVideoElement;
  private remote: HTMLVideoElement;
  private controls: HTMLElement;
  private closed = false;

  private constructor(d: PhoneDeps, ice: RTCIceServer[]) {
    this.d = d;
    this.status = h("p", { id: "call-status", role: "status", "aria-live": "polite", "data-phase": "idle" });
    this.help = h("div", { id: "call-help" });
    this.local = h("video", { id: "call-local", autoplay: true, playsinline: true, muted: true, "aria-label": "Your camera preview" });
    this.local.muted = true;
    this.remote = h("video", { id: "call-remote", autoplay: true, playsinline: true, "aria-label": "The patient's video" });
    this.stage = h("div", { class: "stage" }, this.remote, this.local);
    this.controls = h("div", { class: "controls", id: "call-controls" });
    this.el = h("section", { id: "call", class: "call-panel", "aria-labelledby": "call-h" },
      h("h2", { id: "call-h" }, "Video call"), this.status, this.help, this.stage, this.controls);
    this.call = new Call({
      signalUrl: d.signal || signalUrlFor(d.base),
      token: d.token,
      examId: "",
      role: "provider",
      iceServers: ice,
      onEvent: (e) => this.onEvent(e),
    });
    this.call.open();
    this.render();
  }

  // create opens the console's signaling socket (the provider is online).
  static async create(d: PhoneDeps): Promise<Phone> {
    return new Phone(d, await fetchIceServers(d.base, d.token));
  }

  get examId(): string | null {
    return this.exam;
  }

  // inCall: the provider is in (or entering) a room.
  get inCall(): boolean {
    return ["joining", "waiting", "ringing", "connecting", "call", "reconnecting", "peer-left"].includes(this.phase);
  }

  // panelFor returns what the review of a held video exam shows: the
  // panel, or a note when the provider is in another exam's call.
  panelFor(examId: string): HTMLElement {
    if (this.exam !== examId) {
      if (this.inCall)
        return h("section", { id: "call", class: "call-panel", "aria-labelledby": "call-h" },
          h("h2", { id: "call-h" }, "Video call"),
          h("p", { role: "status" }, "You are in the video call of exam " + this.exam + ". Hang up there before joining this one."));
      this.exam = examId;
      this.rings = 0;
      this.remote.srcObject = null;
      this.set("idle");
    }
    this.render();
    queueMicrotask(() => [this.local, this.remote].forEach((v) => v.srcObject && v.play().catch(() => {})));
    return this.el;
  }

  // accept answers a ring: camera first (the call goes on without it if
  // the browser refuses, with help), then the claim and the room.
  async accept(examId: string): Promise<void> {
    if (this.accepting || this.inCall) return;
    this.accepting = examId;
    this.exam = examId;
    this.rings = 0;
    this.remote.srcObject = null;
    await this.startCamera();
    if (this.closed || this.accepting !== examId) return;
    this.set("joining");
    this.call.accept(examId);
  }

  // finish ends the panel's part in an exam that was decided or released.
  finish(examId: string): void {
    if (this.exam !== examId) return;
    if (this.inCall) this.call.leave();
    this.stopCamera();
    this.remote.srcObject = null;
    this.exam = null;
    this.set("ended");
  }

  // close ends everything (lock, sign-out).
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.call.close();
    this.stopCamera();
    this.remote.srcObject = null;
  }

  private async startCamera(): Promise<void> {
    clear(this.help);
    if (this.stream) return;
    this.set("checking");
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new DOMException("This browser has no camera access", "NotSupportedError");
      const s = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: true });
      if (this.closed) {
        s.getTracks().forEach((t) => t.stop());
        return;
      }
      this.stream = s;
      s.getAudioTracks().forEach((t) => (t.enabled = !this.micOff));
      s.getVideoTracks().forEach((t) => (t.enabled = !this.camOff));
      this.local.srcObject = s;
      this.local.play().catch(() => {});
      this.call.setLocalStream(s);
    } catch (e) {
      this.help.append(
        h("p", { role: "alert", class: "error" }, cameraHelp(e) + " Until then the patient cannot see or hear you; you still see and hear them."),
        h("button", { type: "button", id: "call-camera-retry", onclick: () => void this.retryCamera() }, "Try the camera again"),
      );
    }
  }

  private async retryCamera() {
    const before = this.phase;
    await this.startCamera();
    if (this.phase === "checking") this.set(before);
    // A call already under way carries the new tracks from a fresh offer.
    if (this.stream && this.inCall) this.call.restart();
    if (this.stream) document.getElementById(this.inCall ? "call-hangup" : "call-join")?.focus();
  }

  private stopCamera() {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.local.srcObject = null;
    this.call.setLocalStream(null);
  }

  // preview starts the camera without joining, to check it first.
  private async preview() {
    const before = this.phase;
    await this.startCamera();
    if (this.phase === "checking") this.set(before);
    document.getElementById("call-join")?.focus();
  }

  private async join() {
    if (!this.exam) return;
    const exam = this.exam;
    await this.startCamera();
    if (this.closed || this.exam !== exam) return;
    this.set("joining");
    this.call.join(exam);
  }

  private hangUp() {
    this.call.leave();
    this.remote.srcObject = null;
    this.set("ended");
    document.getElementById("call-join")?.focus();
  }

  private toggleMic() {
    this.micOff = !this.micOff;
    this.call.setMicMuted(this.micOff);
    this.render();
    document.getElementById("call-mute")?.focus();
  }

  private toggleCam() {
    this.camOff = !this.camOff;
    this.call.setCameraOff(this.camOff);
    this.render();
    document.getElementById("call-camera")?.focus();
  }

  private set(p: Phase) {
    this.phase = p;
    this.render();
  }

  private text(): string {
    switch (this.phase) {
      case "idle": return this.stream ? "Your camera is on (preview). Join the patient when ready; decide after the call." : "This is a video exam. Join the patient (your camera starts); decide after the call.";
      case "checking": return "Starting your camera and microphone…";
      case "joining": return "Joining the exam's call…";
      case "waiting": return "You are in the call; the patient is not here yet.";
      case "ringing": return "Ringing the patient (ring " + this.rings + ")…";
      case "connecting": return "Connecting to the patient…";
      case "call": return "Connected with the patient.";
      case "reconnecting": return "The connection dropped; reconnecting. The exam stays yours.";
      case "peer-left": return "The patient left the call. You can ring them.";
      case "ended": return this.exam ? "You are not in the call. Decide below, or join again." : "The call has ended.";
      case "no-answer": return "The patient did not answer: the exam ended as not applicable (not billed).";
      case "replaced": return "This call continues in another tab or window of yours.";
      case "error": return "The call could not continue.";
    }
  }

  // render writes the status and the controls for the phase; a focused
  // control keeps the focus when it is rebuilt.
  private render(extra?: string) {
    const p = this.phase;
    this.status.dataset.phase = p;
    this.status.textContent = extra || this.text() + (this.micOff && this.inCall ? " Your microphone is muted." : "") + (this.camOff && this.inCall ? " Your camera is off." : "");
    this.stage.classList.toggle("with-remote", !!this.remote.srcObject);
    const active = document.activeElement;
    const focused = active && this.controls.contains(active) ? (active as HTMLElement).id : "";
    clear(this.controls);
    const btn = (id: string, label: string, cls: string, on: () => void, pressed?: boolean) =>
      h("button", { type: "button", id, class: cls, onclick: on, "aria-pressed": pressed === undefined ? undefined : String(pressed) }, label);
    if (p === "idle" || p === "ended" || p === "replaced" || p === "error") {
      if (this.exam) this.controls.append(btn("call-join", p === "idle" ? "Join the call" : "Join the call again", "primary", () => void this.join()));
      if (this.exam && !this.stream) this.controls.append(btn("call-preview", "Check my camera first", "", () => void this.preview()));
    } else if (this.inCall) {
      if (p === "waiting" || p === "peer-left" || p === "ringing") {
        this.controls.append(btn("call-ring", "Ring the patient", "", () => this.call.ringPatient()));
        if (this.rings >= NO_SHOW_RINGS) this.controls.append(btn("call-noanswer", "End as no-show (not billed)", "", () => this.call.noAnswer()));
      }
      this.controls.append(
        btn("call-mute", "Mute microphone", "", () => this.toggleMic(), this.micOff),
        btn("call-camera", "Turn camera off", "", () => this.toggleCam(), this.camOff),
        btn("call-hangup", "Hang up", "danger", () => this.hangUp()),
      );
    }
    if (focused) document.getElementById(focused)?.focus();
  }

  private onEvent(e: CallEvent) {
    switch (e.type) {
      case "socket":
        this.d.onSocket(e.state);
        if (e.state === "reconnecting" && this.inCall) this.set("reconnecting");
        return;
      case "joined":
        if (this.accepting) {
          const id = this.accepting;
          this.accepting = null;
          this.d.onAccepted(id);
        }
        this.set(e.peers.includes("patient") ? "connecting" : this.phase === "peer-left" ? "peer-left" : "waiting");
        return;
      case "left":
        // Out of the room after a no-show: stay out across reconnects.
        if (this.phase === "no-answer") this.call.leave();
        return;
      case "peer-joined":
        this.rings = 0;
        this.set("connecting");
        return;
      case "peer-left":
        this.remote.srcObject = null;
        this.set("peer-left");
        return;
      case "replaced":
        this.remote.srcObject = null;
        this.set("replaced");
        return;
      case "ring":
        this.onRing(e.msg);
        return;
      case "remote-stream":
        this.remote.srcObject = e.stream;
        this.remote.play().catch(() => {});
        this.render();
        return;
      case "connection":
        if (e.state === "connected") this.set("call");
        else if (e.state === "failed" && this.inCall) {
          this.set("reconnecting");
          this.call.restart();
        }
        return;
      case "error":
        if (this.accepting && e.about === "ring") {
          const id = this.accepting;
          this.accepting = null;
          this.call.leave();
          this.exam = null;
          this.set("idle");
          this.d.onRefused(id, e.message);
          return;
        }
        if (e.about === "join") {
          // The exam is no longer this provider's to call (decided,
          // released, claimed by another): stay out of its room.
          this.call.leave();
          this.remote.srcObject = null;
          this.phase = "error";
        }
        this.render("The call reported an error: " + e.message);
        return;
    }
  }

  private onRing(m: SignalMessage) {
    if (m.role === "provider") {
      // Our own ring of the patient, acknowledged.
      this.rings = m.attempt || this.rings + 1;
      this.set("ringing");
      return;
    }
    if (m.action === "no_answer") {
      this.remote.srcObject = null;
      this.stopCamera();
      this.set("no-answer"); // the server takes us out of the room
      if (m.exam_id) this.d.onNoShow(m.exam_id);
      return;
    }
    if (!m.from) this.d.onRing(m);
  }
}
