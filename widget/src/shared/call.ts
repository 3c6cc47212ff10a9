// The video consult's browser client: the signaling socket (GET
// /v1/signal?token=…, messages as in internal/signal) and one
// RTCPeerConnection, for either side of the call. The patient's widget and
// a provider's call panel both use it; it has no UI of its own.
//
// Protocol (internal/signal, internal/peer): both parties join the exam's
// room; the provider offers whenever both are in it (their own join ack
// lists the patient, or the patient joins later), the patient answers,
// candidates trickle both ways. A patient who reconnects joins again on a
// new socket, and the provider offers again; a new offer always replaces
// the peer connection. The socket reconnects by itself after a network
// blip (with backoff) and joins the room again if it was in it.

export type Role = "patient" | "provider";

// Out is a message of the server (internal/signal.Out).
export interface SignalMessage {
  type: string;
  exam_id?: string;
  from?: string;
  role?: string;
  peers?: string[];
  action?: string;
  attempt?: number;
  status?: string;
  outcome?: string;
  reason?: string;
  state?: string;
  treatments?: string[];
  position?: number;
  sdp?: RTCSessionDescriptionInit;
  candidate?: RTCIceCandidateInit;
  code?: string;
  message?: string;
}

export type CallEvent =
  | { type: "socket"; state: "connecting" | "open" | "reconnecting" | "closed" }
  | { type: "joined"; peers: string[]; status: string; position: number }
  | { type: "left" }
  | { type: "peer-joined"; role: string }
  | { type: "peer-left"; role: string; reason: string }
  | { type: "replaced" }
  | { type: "ring"; msg: SignalMessage }
  | { type: "remote-stream"; stream: MediaStream }
  | { type: "connection"; state: RTCPeerConnectionState }
  | { type: "error"; code: string; message: string; about: string };

export interface CallOptions {
  // signalUrl is the ws:// or wss:// URL of /v1/signal, without the token.
  signalUrl: string;
  token: string;
  examId: string;
  role: Role;
  iceServers?: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  // localStream's tracks are sent (camera and microphone); without it the
  // side only receives.
  localStream?: MediaStream | null;
  onEvent: (e: CallEvent) => void;
  // reconnectDelays (ms) are the waits between attempts after the socket
  // drops; the last one repeats.
  reconnectDelays?: number[];
}

// signalUrlFor is /v1/signal on the origin of base (http → ws, https → wss).
export function signalUrlFor(base: string): string {
  const u = new URL("/v1/signal", base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

// iceServersFrom reads GET /v1/ice-servers ({ice_servers:[{urls,username?,credential?}]}).
export async function fetchIceServers(base: string, token: string): Promise<RTCIceServer[]> {
  try {
    const res = await fetch(new URL("/v1/ice-servers", base).toString(), {
      headers: { Authorization: "Bearer " + token },
      credentials: "omit",
      cache: "no-store",
    });
    if (!res.ok) return [];
    const body = (await res.json()) as { ice_servers?: { urls: string[] | string; username?: string; credential?: string }[] };
    return (body.ice_servers || []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
  } catch {
    return []; // host candidates still work on the same network
  }
}

export class Call {
  private o: CallOptions;
  private ws: WebSocket | null = null;
  private pc: RTCPeerConnection | null = null;
  private pending: RTCIceCandidateInit[] = [];
  private remoteSet = false;
  private wantRoom = false; // join (again) whenever the socket opens
  private inRoom = false;
  private peerPresent = false;
  private closed = false;
  private attempt = 0;
  private retryTimer = 0;
  private remote: MediaStream | null = null;
  private micOff = false;
  private camOff = false;

  constructor(o: CallOptions) {
    this.o = o;
  }

  get role(): Role {
    return this.o.role;
  }
  get connected(): boolean {
    return !!this.pc && this.pc.connectionState === "connected";
  }
  get socketOpen(): boolean {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  // open connects the socket (and keeps it connected until close).
  open(): void {
    if (this.closed || this.ws) return;
    this.emit({ type: "socket", state: this.attempt ? "reconnecting" : "connecting" });
    const u = new URL(this.o.signalUrl);
    u.searchParams.set("token", this.o.token);
    const ws = new WebSocket(u.toString());
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.emit({ type: "socket", state: "open" });
      if (this.wantRoom) this.send({ type: "join" });
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws || typeof ev.data !== "string") return;
      let m: SignalMessage;
      try {
        m = JSON.parse(ev.data) as SignalMessage;
      } catch {
        return;
      }
      this.handle(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.inRoom = false;
      if (this.closed) return;
      // A network blip (or a server restart): try again, then join again.
      const delays = this.o.reconnectDelays || [300, 1000, 2000, 4000, 8000];
      const wait = delays[Math.min(this.attempt, delays.length - 1)];
      this.attempt++;
      this.emit({ type: "socket", state: "reconnecting" });
      this.retryTimer = window.setTimeout(() => this.open(), wait);
    };
  }

  get examId(): string {
    return this.o.examId;
  }

  // join enters the exam's room (again on every reconnect). A join while in
  // the room refreshes the server's ack (a patient's queue position).
  // examId switches a provider's socket to another exam they hold (the
  // server moves the connection out of any other room).
  join(examId?: string): void {
    if (examId && examId !== this.o.examId) {
      this.closePC();
      this.o.examId = examId;
    }
    this.wantRoom = true;
    this.open();
    if (this.socketOpen) this.send({ type: "join" });
  }

  // accept answers a ring (providers): the claim, then the room. examId
  // names the rung exam when this socket was opened for none.
  accept(examId?: string): void {
    if (examId && examId !== this.o.examId) {
      this.closePC();
      this.o.examId = examId;
    }
    this.wantRoom = true;
    this.send({ type: "ring", action: "accept" });
  }

  // ringPatient rings a patient who is not in the room (providers);
  // noAnswer ends the exam as not_applicable after enough rings.
  ringPatient(): void {
    this.send({ type: "ring" });
  }
  noAnswer(): void {
    this.send({ type: "ring", action: "no_answer" });
  }

  // leave hangs up: out of the room, the peer connection closed; the socket
  // stays open (rings still arrive).
  leave(): void {
    this.wantRoom = false;
    if (this.inRoom) this.send({ type: "leave" });
    this.inRoom = false;
    this.closePC();
  }

  // restart renegotiates from scratch (leave and join again), for a peer
  // connection that failed while the socket is fine.
  restart(): void {
    if (this.inRoom) this.send({ type: "leave" });
    this.inRoom = false;
    this.closePC();
    this.join();
  }

  // close ends everything; the object is done.
  close(): void {
    if (this.closed) return;
    if (this.inRoom) this.send({ type: "leave" });
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.closePC();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try {
        ws.close(1000, "bye");
      } catch {
        /* already closing */
      }
    }
    this.emit({ type: "socket", state: "closed" });
  }

  // setLocalStream swaps the tracks sent (e.g. after the camera check).
  setLocalStream(s: MediaStream | null): void {
    this.o.localStream = s;
    this.applyMute();
  }

  setMicMuted(off: boolean): void {
    this.micOff = off;
    this.applyMute();
  }
  setCameraOff(off: boolean): void {
    this.camOff = off;
    this.applyMute();
  }
  private applyMute() {
    const s = this.o.localStream;
    if (!s) return;
    s.getAudioTracks().forEach((t) => (t.enabled = !this.micOff));
    s.getVideoTracks().forEach((t) => (t.enabled = !this.camOff));
  }

  // stats counts RTP packets received and sent on the current connection.
  async stats(): Promise<{ received: number; sent: number }> {
    const out = { received: 0, sent: 0 };
    if (!this.pc) return out;
    const r = await this.pc.getStats();
    r.forEach((v: { type: string; packetsReceived?: number; packetsSent?: number }) => {
      if (v.type === "inbound-rtp") out.received += v.packetsReceived || 0;
      if (v.type === "outbound-rtp") out.sent += v.packetsSent || 0;
    });
    return out;
  }

  private emit(e: CallEvent) {
    try {
      this.o.onEvent(e);
    } catch (err) {
      console.error(err);
    }
  }

  private send(m: Record<string, unknown>) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ ...m, exam_id: this.o.examId }));
    return true;
  }

  private handle(m: SignalMessage) {
    if (m.exam_id && m.exam_id !== this.o.examId && m.type !== "ring") return;
    const other = this.o.role === "patient" ? "provider" : "patient";
    switch (m.type) {
      case "join":
        if (m.role) {
          // our own join acknowledged
          this.inRoom = true;
          this.peerPresent = (m.peers || []).indexOf(other) >= 0;
          this.emit({ type: "joined", peers: m.peers || [], status: m.status || "", position: m.position || 0 });
          if (this.peerPresent && this.o.role === "provider") void this.offer();
        } else {
          this.peerPresent = true;
          this.emit({ type: "peer-joined", role: m.from || other });
          if (this.o.role === "provider") void this.offer();
        }
        return;
      case "leave":
        if (m.role) {
          this.inRoom = false;
          this.emit({ type: "left" });
        } else if (m.from === this.o.role) {
          // This party joined on a newer connection (another tab, or our
          // own reconnect racing the old socket): this one is out.
          if (m.reason === "replaced") {
            this.inRoom = false;
            this.closePC();
            this.emit({ type: "replaced" });
          }
        } else {
          this.peerPresent = false;
          this.closePC();
          this.emit({ type: "peer-left", role: m.from || other, reason: m.reason || "" });
        }
        return;
      case "offer":
        if (m.sdp) void this.answer(m.sdp);
        return;
      case "answer":
        if (m.sdp && this.pc) {
          const pc = this.pc;
          pc.setRemoteDescription(m.sdp).then(() => this.flush(pc), () => {});
        }
        return;
      case "candidate":
        if (m.candidate) this.addCandidate(m.candidate);
        return;
      case "ring":
        this.emit({ type: "ring", msg: m });
        return;
      case "error":
        this.emit({ type: "error", code: m.code || "", message: m.message || "", about: m.reason || "" });
        return;
    }
  }

  private newPC(): RTCPeerConnection {
    this.closePC();
    const pc = new RTCPeerConnection({ iceServers: this.o.iceServers || [], iceTransportPolicy: this.o.iceTransportPolicy || "all" });
    this.pc = pc;
    this.pending = [];
    this.remoteSet = false;
    this.remote = null;
    pc.onicecandidate = (e) => {
      if (e.candidate && this.pc === pc) this.send({ type: "candidate", candidate: e.candidate.toJSON(), sent_at: Date.now() * 1e6 });
    };
    pc.ontrack = (e) => {
      if (this.pc !== pc) return;
      const s = e.streams[0] || this.remote || new MediaStream();
      if (!e.streams[0]) s.addTrack(e.track);
      if (s !== this.remote) {
        this.remote = s;
        this.emit({ type: "remote-stream", stream: s });
      }
    };
    pc.onconnectionstatechange = () => {
      if (this.pc === pc) this.emit({ type: "connection", state: pc.connectionState });
    };
    pc.ondatachannel = (e) => {
      // The Pion peer opens "consult"; echo keeps it useful for checks.
      e.channel.onmessage = (ev) => {
        if (e.channel.readyState === "open" && typeof ev.data === "string") e.channel.send(ev.data);
      };
    };
    return pc;
  }

  private addLocal(pc: RTCPeerConnection) {
    const s = this.o.localStream;
    const kinds = new Set<string>();
    if (s) {
      for (const t of s.getTracks()) {
        pc.addTrack(t, s);
        kinds.add(t.kind);
      }
    }
    return kinds;
  }

  private async offer() {
    const pc = this.newPC();
    const kinds = this.addLocal(pc);
    for (const k of ["audio", "video"]) if (!kinds.has(k)) pc.addTransceiver(k, { direction: "recvonly" });
    pc.createDataChannel("consult");
    try {
      const o = await pc.createOffer();
      if (this.pc !== pc) return;
      await pc.setLocalDescription(o);
      this.send({ type: "offer", sdp: pc.localDescription!.toJSON(), sent_at: Date.now() * 1e6 });
    } catch (err) {
      this.emit({ type: "error", code: "webrtc", message: String(err), about: "offer" });
    }
  }

  private async answer(sdp: RTCSessionDescriptionInit) {
    const pc = this.newPC();
    try {
      await pc.setRemoteDescription(sdp);
      if (this.pc !== pc) return;
      // addTrack after the offer reuses its transceivers of the same kind.
      this.addLocal(pc);
      this.flush(pc);
      const a = await pc.createAnswer();
      if (this.pc !== pc) return;
      await pc.setLocalDescription(a);
      this.send({ type: "answer", sdp: pc.localDescription!.toJSON(), sent_at: Date.now() * 1e6 });
    } catch (err) {
      this.emit({ type: "error", code: "webrtc", message: String(err), about: "answer" });
    }
  }

  private flush(pc: RTCPeerConnection) {
    if (this.pc !== pc) return;
    this.remoteSet = true;
    const p = this.pending;
    this.pending = [];
    for (const c of p) pc.addIceCandidate(c).catch(() => {});
  }

  private addCandidate(c: RTCIceCandidateInit) {
    if (this.pc && this.remoteSet) this.pc.addIceCandidate(c).catch(() => {});
    else this.pending.push(c);
  }

  private closePC() {
    const pc = this.pc;
    this.pc = null;
    this.pending = [];
    this.remoteSet = false;
    this.remote = null;
    if (pc) {
      pc.onicecandidate = pc.ontrack = pc.onconnectionstatechange = pc.ondatachannel = null;
      pc.close();
    }
  }
}
