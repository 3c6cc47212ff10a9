// The patient's video visit: camera and microphone check (with help when
// the browser blocks them), the waiting room with the patient's place in
// line, the call, and reconnecting after a network blip. The signaling and
// WebRTC are shared/call.ts; this file is only the patient's UI.
//
// The section is built once and kept while the visit lasts: the status
// page re-attaches it (render() clears the app), so the <video> elements
// and their streams survive status changes and a change of language.

import { h, clear } from "./dom";
import type { Key } from "./i18n";
import { Call, CallEvent, fetchIceServers, signalUrlFor } from "../shared/call";

type T = (key: Key, vars?: Record<string, string | number>) => string;

type Phase =
  | "check" | "checking" | "denied" | "nodevice" | "busy" | "nomedia" | "ready"
  | "waiting" | "ringing" | "connecting" | "call" | "reconnecting" | "providerLeft" | "left" | "replaced";

// POSITION_REFRESH_MS: how often the waiting room asks for its place again.
const POSITION_REFRESH_MS = 10000;

export interface VideoDeps {
  t: () => T;
  token: string;
  examId: string;
  onResize: () => void;
}

export class VideoVisit {
  readonly el: HTMLElement;
  private d: VideoDeps;
  private phase: Phase = "check";
  private heading: HTMLHeadingElement;
  private status: HTMLElement;
  private help: HTMLElement;
  private stage: HTMLElement;
  private local: HTMLVideoElement;
  private remote: HTMLVideoElement;
  private controls: HTMLElement;
  private stream: MediaStream | null = null;
  private call: Call | null = null;
  private position = 0;
  private micOff = false;
  private camOff = false;
  private refresh = 0;
  private stopped = false;

  constructor(d: VideoDeps) {
    this.d = d;
    this.heading = h("h1", { tabindex: "-1" });
    this.status = h("p", { id: "video-status", role: "status", "aria-live": "polite" });
    this.help = h("div", { id: "video-help" });
    this.local = h("video", { id: "local-video", autoplay: true, playsinline: true, muted: true });
    this.local.muted = true;
    this.remote = h("video", { id: "remote-video", autoplay: true, playsinline: true, hidden: true });
    this.stage = h("div", { class: "stage", hidden: true }, this.remote, this.local);
    this.controls = h("div", { class: "controls", id: "video-controls" });
    this.el = h("section", { id: "video" }, this.heading, this.status, this.help, this.stage, this.controls);
    this.update();
  }

  // mount re-attaches the section (after render() cleared the page) and
  // resumes the videos, which a removal from the document paused.
  mount(parent: HTMLElement) {
    parent.append(this.el);
    this.update();
    for (const v of [this.local, this.remote]) if (v.srcObject) v.play().catch(() => {});
  }

  // stop ends the visit: out of the room, camera and microphone released.
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.refresh);
    if (this.call) this.call.close();
    this.call = null;
    if (this.stream) this.stream.getTracks().forEach((tr) => tr.stop());
    this.stream = null;
    this.local.srcObject = null;
    this.remote.srcObject = null;
  }

  private t(key: Key, vars?: Record<string, string | number>) {
    return this.d.t()(key, vars);
  }

  private set(p: Phase) {
    if (this.stopped) return;
    this.phase = p;
    clearInterval(this.refresh);
    if (p === "waiting") this.refresh = window.setInterval(() => this.call && this.call.join(), POSITION_REFRESH_MS);
    this.update();
  }

  // update writes every text and control for the phase; the videos stay.
  update() {
    const t = (k: Key, v?: Record<string, string | number>) => this.t(k, v);
    const p = this.phase;
    const inCheck = p === "check" || p === "checking" || p === "ready" || p === "denied" || p === "nodevice" || p === "busy" || p === "nomedia";
    this.heading.textContent = inCheck ? t("checkTitle") : p === "waiting" || p === "ringing" ? t("waitingTitle") : t("videoTitle");
    this.local.setAttribute("aria-label", t("yourVideo"));
    this.remote.setAttribute("aria-label", t("providerVideo"));

    const lines: string[] = [];
    switch (p) {
      case "check": lines.push(t("checkHint")); break;
      case "checking": lines.push(t("checking")); break;
      case "ready": lines.push(t("checkOk")); break;
      case "waiting":
        lines.push(this.position === 1 ? t("positionNext") : this.position > 1 ? t("position", { n: this.position }) : "", t("waitingHint"));
        break;
      case "ringing": lines.push(t("providerCalling")); break;
      case "connecting": lines.push(t("connecting")); break;
      case "call": lines.push(t("inCall")); break;
      case "reconnecting": lines.push(t("reconnecting")); break;
      case "providerLeft": lines.push(t("providerLeft")); break;
      case "left": lines.push(t("youLeft")); break;
      case "replaced": lines.push(t("replaced")); break;
    }
    if (!inCheck && this.stream) {
      if (this.micOff) lines.push(t("micMuted"));
      if (this.camOff) lines.push(t("camIsOff"));
    }
    clear(this.status);
    lines.filter(Boolean).forEach((l, i) => this.status.append(h("span", { class: "line", id: i === 0 && p === "waiting" && this.position ? "position" : undefined }, l)));
    this.status.setAttribute("data-phase", p);

    clear(this.help);
    if (p === "denied") {
      this.help.append(h("div", { role: "alert", class: "help" }, h("p", { class: "error" }, t("deniedTitle")), h("p", null, t("deniedHelp1")), h("p", null, t("deniedHelp2")), h("p", null, t("deniedHelp3"))));
    } else if (p === "nodevice" || p === "busy" || p === "nomedia") {
      this.help.append(h("div", { role: "alert", class: "help" }, h("p", { class: "error" }, t(p === "nodevice" ? "noDevice" : p === "busy" ? "deviceBusy" : "noMedia"))));
    }

    this.stage.hidden = !this.stream;
    const showRemote = p === "call" || p === "connecting" || p === "reconnecting";
    this.remote.hidden = !(showRemote && this.remote.srcObject);
    this.stage.classList.toggle("with-remote", !this.remote.hidden);

    // Controls are rebuilt: a focused one keeps the focus (same id), or it
    // moves to the heading rather than being lost to the page.
    const active = document.activeElement;
    const hadFocus = !!active && (this.controls.contains(active) || this.help.contains(active)) ? (active as HTMLElement).id || "-" : "";
    clear(this.controls);
    const btn = (id: string, label: string, cls: string, on: () => void, pressed?: boolean) =>
      h("button", { type: "button", id, class: cls, onclick: on, "aria-pressed": pressed === undefined ? undefined : String(pressed) }, label);
    switch (p) {
      case "check":
      case "denied":
      case "nodevice":
      case "busy":
        this.controls.append(btn("camera-check", p === "check" ? t("checkStart") : t("retry"), "primary", () => void this.check()));
        break;
      case "ready":
        this.controls.append(btn("join-waiting", t("joinWaiting"), "primary", () => void this.enter()));
        break;
      case "ringing":
      case "left":
        this.controls.append(btn("join-call", p === "ringing" ? t("joinCall") : t("rejoin"), "primary", () => this.rejoin()));
        break;
      case "waiting":
      case "connecting":
      case "call":
      case "reconnecting":
      case "providerLeft":
        this.controls.append(
          btn("mute", t("mute"), "secondary", () => this.toggleMic(), this.micOff),
          btn("camera", t("cameraOff"), "secondary", () => this.toggleCam(), this.camOff),
          btn("hang-up", t("hangUp"), "danger", () => this.hangUp()),
        );
        break;
    }
    if (hadFocus && this.el.isConnected) {
      const again = hadFocus !== "-" && document.getElementById(hadFocus);
      (again || this.heading).focus();
    }
    this.d.onResize();
  }

  private focusControl(id: string) {
    const b = document.getElementById(id);
    if (b) b.focus();
  }

  // check asks for the camera and microphone and shows the preview.
  async check() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof RTCPeerConnection === "undefined") {
      return this.set("nomedia");
    }
    this.set("checking");
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: true });
      if (this.stopped) {
        s.getTracks().forEach((tr) => tr.stop());
        return;
      }
      this.stream = s;
      this.local.srcObject = s;
      this.local.play().catch(() => {});
      this.set("ready");
      this.focusControl("join-waiting");
    } catch (e) {
      const name = (e as DOMException).name;
      this.set(name === "NotFoundError" || name === "OverconstrainedError" ? "nodevice" : name === "NotReadableError" || name === "AbortError" ? "busy" : "denied");
      this.focusControl("camera-check");
    }
  }

  // enter opens the signaling socket and joins the exam's room.
  private async enter() {
    if (this.call) return this.rejoin();
    const base = location.href;
    const ice = await fetchIceServers(base, this.d.token);
    if (this.stopped) return;
    this.call = new Call({
      signalUrl: signalUrlFor(base),
      token: this.d.token,
      examId: this.d.examId,
      role: "patient",
      iceServers: ice,
      localStream: this.stream,
      onEvent: (e) => this.onEvent(e),
    });
    this.call.setMicMuted(this.micOff);
    this.call.setCameraOff(this.camOff);
    this.set("connecting");
    this.call.join();
  }

  private rejoin() {
    if (!this.call) return void this.enter();
    this.set("connecting");
    this.call.join();
  }

  private hangUp() {
    if (!this.call) return;
    this.call.leave();
    this.remote.srcObject = null;
    this.set("left");
    this.focusControl("join-call");
  }

  private toggleMic() {
    this.micOff = !this.micOff;
    if (this.call) this.call.setMicMuted(this.micOff);
    else if (this.stream) this.stream.getAudioTracks().forEach((tr) => (tr.enabled = !this.micOff));
    this.update();
    this.focusControl("mute");
  }

  private toggleCam() {
    this.camOff = !this.camOff;
    if (this.call) this.call.setCameraOff(this.camOff);
    else if (this.stream) this.stream.getVideoTracks().forEach((tr) => (tr.enabled = !this.camOff));
    this.update();
    this.focusControl("camera");
  }

  private onEvent(e: CallEvent) {
    switch (e.type) {
      case "socket":
        if (e.state === "reconnecting" && this.phase !== "left") this.set("reconnecting");
        return;
      case "joined":
        this.position = e.position;
        if (e.peers.indexOf("provider") >= 0) {
          if (this.phase !== "call") this.set("connecting");
        } else if (this.phase !== "waiting" || e.position) this.set("waiting");
        return;
      case "left":
        return;
      case "peer-joined":
        this.set("connecting");
        return;
      case "peer-left":
        this.remote.srcObject = null;
        if (e.reason === "not_applicable") return this.set("left");
        this.set("providerLeft");
        return;
      case "replaced":
        this.set("replaced");
        return;
      case "ring":
        if (e.msg.from === "provider" && this.phase !== "call") {
          this.set("ringing");
          this.focusControl("join-call");
        }
        return;
      case "remote-stream":
        this.remote.srcObject = e.stream;
        this.remote.play().catch(() => {});
        this.update();
        return;
      case "connection":
        if (e.state === "connected") this.set("call");
        else if (e.state === "failed" && this.call) {
          this.set("reconnecting");
          this.call.restart();
        }
        return;
      case "error":
        if (e.code === "room_closed" || e.code === "exam_not_found") this.set("left");
        return;
    }
  }
}
