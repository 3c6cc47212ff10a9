// The provider console: OIDC sign-in (tokens in memory), the live queue
// (polled), video rings (accepting is the claim), claim and release, the
// review (flags first, identity, answers, photos, prior orders at this
// clinic) beside the call panel for a video exam (callpanel.ts), the
// decision per treatment with order fields prefilled from the clinic's
// signed protocol, attestation and signature, the signed PSO's preview and
// PDF, and the idle lock. Everything the patient typed is set as text.
//
// The open exam's id (not PHI) is kept in the address (?exam=…), so a
// reload or a lock followed by a new sign-in reopens it.
import { API, APIError, idemKey } from "../shared/api";
import type { SignalMessage } from "../shared/call";
import { Config, Session, completeSignIn, decodeJWT, loadConfig, signIn } from "../shared/oidc";
import { announce, clear, errorText, fmtDate, h, idleLock, signInScreen } from "../shared/ui";
import { Phone } from "./callpanel";

const root = document.getElementById("app") as HTMLElement;
let cfg: Config;
let session: Session | null = null;
let api: API;
let poll = 0;
let heartbeat = 0;
// PRESENCE_MS: how often the console tells the API the provider is still
// online (internal/presence forgets a provider silent for 2 minutes).
const PRESENCE_MS = 60000;
let stopIdle: (() => void) | null = null;
const held = new Set<string>();
let openExam: string | null = null;
let phone: Phone | null = null;
// ringing: video exams whose patient waits in the room, as rung.
const ringing = new Map<string, SignalMessage>();

type Flag = { code: string; display: string; link_id: string };
type Order = { treatment: string; product: string; dose: string; route: string; areas?: string[]; frequency?: string; quantity?: string; refills: number; valid_days?: number };
// Protocol is a clinic protocol version in force (internal/oversight).
type Protocol = { id: string; treatment: string; version: number; title: string; standing_order: Order; signature?: { director_id: string; name: string; signed_at: string } };

const TREATMENT: Record<string, string> = {
  neurotoxin: "Neurotoxin", dermal_filler: "Dermal filler", laser_energy: "Laser / energy", iv_therapy: "IV therapy",
  glp1: "GLP-1", peptide: "Peptide", testosterone: "Testosterone",
};
const tname = (t: string) => TREATMENT[t] || t;

function lock(reason: string) {
  // Go offline for new offers (best effort) before the token is dropped.
  if (session) api.json("PUT", "/v1/provider/presence", { online: false }).catch(() => {});
  session = null;
  phone?.close();
  phone = null;
  ringing.clear();
  held.clear();
  openExam = null;
  clearInterval(poll);
  clearInterval(heartbeat);
  stopIdle?.();
  stopIdle = null;
  clear(root);
  root.append(
    h("main", { class: "locked" },
      h("h1", null, "Console locked"),
      h("p", { role: "alert" }, reason),
      h("button", { type: "button", id: "signin", class: "primary", onclick: () => signIn(cfg) }, "Sign in again"),
    ),
  );
}

function shell() {
  clear(root);
  const who = String(session!.claims["goodfaith:provider_id"] || session!.claims.sub || "");
  root.append(
    h("header", { class: "top" },
      h("strong", null, "Goodfaith provider console"),
      h("span", { class: "who", id: "who" }, "Signed in as " + who),
      h("span", { class: "who", id: "video-online", "data-state": "connecting" }, "Video calls: connecting…"),
      h("span", null,
        h("button", { type: "button", id: "lock", onclick: () => lock("You locked the console.") }, "Lock"), " ",
        h("button", { type: "button", id: "signout", onclick: () => {
          setExamParam(null); // signing out forgets the open exam too
          lock("You signed out.");
        } }, "Sign out"),
      ),
    ),
    h("main", null,
      h("p", { id: "status", class: "sr-only", role: "status", "aria-live": "polite" }),
      h("div", { id: "review-area" }),
      h("section", { id: "rings-area", "aria-labelledby": "rings-h", hidden: true },
        h("h1", { id: "rings-h" }, "Patients waiting for a video call"),
        h("p", { class: "muted" }, "Accepting a call claims the exam and connects you with the patient."),
        h("ul", { id: "rings" }),
      ),
      h("section", { id: "queue-area", "aria-labelledby": "queue-h" },
        h("h1", { id: "queue-h" }, "Queue"),
        h("p", { class: "muted" }, "Exams you may take, nearest their deadline first. This list updates by itself."),
        h("div", { id: "queue" }, h("p", null, "Loading…")),
        h("h2", null, "Exams you hold"),
        h("div", { id: "held" }),
      ),
    ),
  );
}

function waited(since: string): string {
  const m = Math.max(0, Math.round((Date.now() - new Date(since).getTime()) / 60000));
  return m < 60 ? m + " min" : Math.floor(m / 60) + " h " + (m % 60) + " min";
}

async function refreshQueue() {
  if (!session) return;
  const box = document.getElementById("queue");
  if (!box) return;
  let items: any[];
  try {
    items = (await api.json("GET", "/v1/provider/queue")).items;
  } catch (e) {
    if (session) box.replaceChildren(h("p", { class: "error" }, "The queue could not be loaded: " + errorText(e)));
    return;
  }
  if (!session) return;
  // A ring whose exam left the queue (taken, cancelled) is over.
  const queued = new Set(items.map((it) => it.exam_id));
  for (const id of [...ringing.keys()]) if (!queued.has(id)) ringing.delete(id);
  renderRings();
  box.dataset.count = String(items.length);
  if (!items.length) {
    box.replaceChildren(h("p", { id: "queue-empty" }, "No exams are waiting for you."));
  } else {
    box.replaceChildren(
      h("table", { id: "queue-table" },
        h("caption", { class: "sr-only" }, "Queue"),
        h("thead", null, h("tr", null, ["Exam", "State", "Treatments", "Visit", "Waiting", "Flags", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null,
          items.map((it) =>
            h("tr", { "data-exam": it.exam_id },
              h("td", null, it.exam_id),
              h("td", null, it.state),
              h("td", null, it.treatments.map(tname).join(", ")),
              h("td", null, it.modality === "video" ? "Video" : "Async"),
              h("td", null, waited(it.waiting_since), it.escalated ? h("strong", null, " (overdue)") : null),
              h("td", null, it.flags.length ? it.flags.map((f: Flag) => f.display).join("; ") : "None"),
              h("td", null, h("button", { type: "button", class: "primary", "aria-label": "Claim exam " + it.exam_id, onclick: () => claim(it.exam_id) }, "Claim")),
            ),
          ),
        ),
      ),
    );
  }
  renderHeld();
  announce(items.length + " exam(s) in your queue.");
}

function renderHeld() {
  const box = document.getElementById("held");
  if (!box) return;
  box.replaceChildren(
    held.size
      ? h("ul", null, [...held].map((id) => h("li", null, h("button", { type: "button", onclick: () => review(id) }, "Open " + id))))
      : h("p", null, "None."),
  );
}

// loadHeld lists the exams the provider holds from the API: after a
// reload the console knows only the exam in its address.
async function loadHeld(mine: Session) {
  try {
    const items: { exam_id: string }[] = (await api.json("GET", "/v1/provider/exams")).items;
    if (session !== mine) return; // locked meanwhile
    for (const it of items) held.add(it.exam_id);
    renderHeld();
  } catch (e) {
    if (session === mine) announce("The exams you hold could not be loaded: " + errorText(e));
  }
}

function renderRings() {
  const area = document.getElementById("rings-area");
  const list = document.getElementById("rings");
  if (!area || !list) return;
  area.hidden = ringing.size === 0;
  list.replaceChildren(
    ...[...ringing.values()].map((m) =>
      h("li", { id: "ring-" + m.exam_id, "data-exam": m.exam_id },
        "Exam " + m.exam_id + " — " + (m.state || "?") + " — " + (m.treatments || []).map(tname).join(", ") + " ",
        h("button", { type: "button", class: "primary accept", "aria-label": "Accept the video call of exam " + m.exam_id, onclick: () => void acceptRing(m.exam_id!) }, "Accept video call"),
      ),
    ),
  );
}

function onRing(m: SignalMessage) {
  if (!m.exam_id) return;
  if (m.action === "taken") {
    ringing.delete(m.exam_id);
  } else {
    if (!ringing.has(m.exam_id)) announce("A patient is waiting for a video call (exam " + m.exam_id + ").");
    ringing.set(m.exam_id, m);
  }
  renderRings();
}

// acceptRing answers a ring: the call panel claims the exam and joins its
// room; the review opens beside the panel once the claim holds.
async function acceptRing(id: string) {
  if (!phone) return;
  if (phone.inCall) {
    announce("Hang up the current call before accepting another.");
    return;
  }
  ringing.delete(id);
  renderRings();
  const area = document.getElementById("review-area")!;
  openExam = id;
  const h1 = h("h1", { id: "review-h", tabindex: "-1" }, "Video exam " + id);
  area.replaceChildren(h("section", { id: "review", "aria-labelledby": "review-h" }, h1, h("p", { role: "status" }, "Accepting the call…"), phone.panelFor(id)));
  h1.focus();
  await phone.accept(id);
}

async function claim(id: string) {
  try {
    await api.json("POST", "/v1/provider/exams/" + encodeURIComponent(id) + "/claim", undefined, { "Idempotency-Key": idemKey() });
  } catch (e) {
    announce(e instanceof APIError && e.status === 409 ? "Another provider took this exam." : errorText(e));
    refreshQueue();
    return;
  }
  held.add(id);
  await review(id);
  refreshQueue();
}

async function release(id: string) {
  try {
    await api.json("POST", "/v1/provider/exams/" + encodeURIComponent(id) + "/release", undefined, { "Idempotency-Key": idemKey() });
  } catch (e) {
    announce(errorText(e));
  }
  held.delete(id);
  phone?.finish(id);
  closeReview();
  refreshQueue();
}

function closeReview() {
  openExam = null;
  setExamParam(null);
  document.getElementById("review-area")?.replaceChildren();
}

// setExamParam keeps the open exam's id in the address (?exam=…).
function setExamParam(id: string | null) {
  const q = new URLSearchParams(location.search);
  if (id) q.set("exam", id);
  else q.delete("exam");
  const s = q.toString();
  history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
}

function answerText(v: unknown): string {
  if (v === true) return "Yes";
  if (v === false) return "No";
  if (Array.isArray(v)) return v.join(", ");
  return v === null || v === undefined ? "" : String(v);
}

function humanize(linkId: string): string {
  const s = linkId.replace(/[_-]+/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

async function review(id: string) {
  const area = document.getElementById("review-area")!;
  openExam = id;
  area.replaceChildren(h("p", null, "Loading the exam…"));
  setExamParam(id);
  let ex: any, hist: any, protos: any;
  try {
    [ex, hist, protos] = await Promise.all([
      api.json("GET", "/v1/provider/exams/" + encodeURIComponent(id)).then((r) => r.exam),
      api.json("GET", "/v1/provider/exams/" + encodeURIComponent(id) + "/history"),
      // Without the protocols the form still works, prefilled otherwise.
      api.json("GET", "/v1/provider/exams/" + encodeURIComponent(id) + "/protocols").catch((e) => ({ error: errorText(e) })),
    ]);
  } catch (e) {
    if (openExam !== id) return;
    held.delete(id);
    renderHeld();
    setExamParam(null);
    area.replaceChildren(h("p", { class: "error", role: "alert", id: "review-error" }, e instanceof APIError && e.status === 404 ? "This exam is not yours to open." : errorText(e)));
    return;
  }
  if (openExam !== id) return; // another exam was opened meanwhile
  const live = ex.status === "claimed" || ex.status === "in_consult";
  if (live) held.add(ex.id);
  renderHeld();
  const p = ex.patient;
  const flagged = new Set((ex.flags as Flag[]).map((f) => f.link_id));
  const answers = Object.entries(ex.answers as Record<string, unknown>).sort(([a], [b]) => Number(flagged.has(b)) - Number(flagged.has(a)));
  const photos = h("div", { class: "photos", id: "photos" });
  const body = h("div", { class: "review-body" },
    h("section", { class: "flags", id: "flags", "aria-labelledby": "flags-h" },
      h("h2", { id: "flags-h" }, "Contraindication flags"),
      ex.flags.length
        ? h("ul", null, (ex.flags as Flag[]).map((f) => h("li", { class: "flag" }, f.display, h("span", { class: "muted" }, " (" + humanize(f.link_id) + ")"))))
        : h("p", null, "No flags."),
    ),
    h("h2", null, "Identity"),
    h("dl", { class: "grid", id: "identity" },
      h("dt", null, "Legal name"), h("dd", { class: "text", id: "patient-name" }, p.first_name + " " + p.last_name),
      h("dt", null, "Date of birth"), h("dd", null, p.dob),
      h("dt", null, "State"), h("dd", null, ex.state),
      h("dt", null, "Email"), h("dd", { class: "text" }, p.email),
      h("dt", null, "Phone"), h("dd", { class: "text" }, p.phone || "—"),
      h("dt", null, "Treatments"), h("dd", null, ex.treatments.map(tname).join(", ")),
      h("dt", null, "Visit"), h("dd", null, ex.modality),
    ),
    h("h2", null, "Answers"),
    h("dl", { class: "grid", id: "answers" },
      answers.map(([k, v]) => [
        h("dt", null, humanize(k), flagged.has(k) ? h("span", { class: "error" }, " — flagged") : null),
        h("dd", { class: "text", "data-link": k }, answerText(v)),
      ]).flat(),
    ),
    h("h2", null, "Photos"),
    photos,
    h("h2", null, "Prior orders for this patient at this clinic"),
    priorList(hist.prior),
    decisionForm(ex, hist, protos),
  );
  // A video exam's call panel sits beside the review and the decision.
  const panel = ex.modality === "video" && live && phone ? phone.panelFor(ex.id) : null;
  const section = h("section", { id: "review", "aria-labelledby": "review-h" },
    h("h1", { id: "review-h" }, "Review exam " + ex.id),
    h("p", null, live ? h("button", { type: "button", id: "release", onclick: () => release(ex.id) }, "Release back to the queue") : null, " ",
      h("button", { type: "button", onclick: closeReview }, "Close")),
    panel ? h("div", { class: "review-grid" }, panel, body) : body,
  );
  area.replaceChildren(section);
  (section.querySelector("h1") as HTMLElement).tabIndex = -1;
  (section.querySelector("h1") as HTMLElement).focus();
  if (!ex.attachments.length) photos.append(h("p", null, "No photos."));
  for (const a of ex.attachments) {
    try {
      const d = await api.json("GET", "/v1/provider/exams/" + encodeURIComponent(ex.id) + "/attachments/" + encodeURIComponent(a.id));
      photos.append(h("img", { src: d.url, alt: "Patient photo " + a.id }));
    } catch (e) {
      photos.append(h("p", { class: "error" }, "Photo " + a.id + " could not be loaded."));
    }
  }
}

function priorList(prior: any[]): HTMLElement {
  if (!prior.length) return h("p", { id: "prior" }, "None.");
  return h("ul", { id: "prior" },
    prior.map((x) =>
      h("li", null,
        fmtDate(x.decided_at) + " — " + x.outcome + " — " + x.treatments.map(tname).join(", "),
        x.pso ? " — PSO " + x.pso.id + " valid until " + x.pso.valid_until : "",
        x.orders.length ? h("div", { class: "text muted" }, x.orders.map((o: Order) => tname(o.treatment) + ": " + o.product + " " + o.dose + " " + o.route).join("\n")) : null,
        x.reason ? h("div", { class: "text muted" }, "Reason: " + x.reason) : null,
      ),
    ),
  );
}

const ORDER_FIELDS: [keyof Order, string, string][] = [
  ["product", "Product", "text"], ["dose", "Dose", "text"], ["route", "Route", "text"], ["areas", "Areas (comma separated)", "text"],
  ["frequency", "Frequency", "text"], ["quantity", "Quantity", "text"], ["refills", "Refills", "number"], ["valid_days", "Valid for (days)", "number"],
];

// fieldText is an order field as the form shows it.
function fieldText(o: Order | undefined, k: keyof Order): string {
  const v: unknown = o ? o[k] : undefined;
  if (Array.isArray(v)) return v.join(", ");
  if (k === "valid_days" && !v) return "";
  return v === undefined || v === null ? (k === "refills" ? "0" : "") : String(v);
}

// sameField compares as the server does for deviations (internal/oversight):
// case and spacing aside, areas as a set.
function sameField(k: keyof Order, a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\s+/g, " ").toLowerCase();
  if (k === "areas") {
    const set = (s: string) => s.split(",").map(norm).filter(Boolean).sort().join(",");
    return set(a) === set(b);
  }
  if (k === "refills" || k === "valid_days") return Number(a || 0) === Number(b || 0);
  return norm(a) === norm(b);
}

function decisionForm(ex: any, hist: any, protos: any): HTMLElement {
  const last: Record<string, Order> = hist.last_orders || {};
  const inForce: Protocol[] = (protos && protos.protocols) || [];
  const err = h("p", { class: "error", id: "decision-error", role: "alert" });
  const form = h("form", { id: "decision", novalidate: true },
    h("h2", null, "Decision"),
    protos && protos.error ? h("p", { class: "error", id: "protocols-error" }, "The clinic's protocols could not be loaded (" + protos.error + "); check the order against them yourself.") : null,
    ex.treatments.map((t: string) => {
      const proto = inForce.find((p) => p.treatment === t);
      const pre = proto ? proto.standing_order : last[t];
      const f = (k: string) => "d-" + t + "-" + k;
      const radios = [["approve", "Approve"], ["conditional", "Approve with conditions"], ["defer", "Defer"], ["deny", "Deny"]];
      const deviations = h("ul", { id: f("deviations"), class: "deviations", "aria-live": "polite" });
      const inputs = ORDER_FIELDS.map(([k, l, type]) => {
        const input = h("input", { id: f(k), name: k, type, value: fieldText(pre, k), min: type === "number" ? 0 : undefined });
        return [k, l, input] as [keyof Order, string, HTMLInputElement];
      });
      // Edits away from the protocol's standing order are deviations; the
      // PSO records them (the server compares again when signing).
      const showDeviations = () => {
        if (!proto) return;
        deviations.replaceChildren(
          ...inputs
            .filter(([k, , input]) => !sameField(k, fieldText(proto.standing_order, k), input.value))
            .map(([k, l, input]) => {
              const want = fieldText(proto.standing_order, k);
              return h("li", { "data-field": k }, l.replace(/ \(.*\)$/, "") + ": protocol " + (want || "(none)") + ", this order " + (input.value.trim() || "(none)"));
            }),
        );
        for (const [k, , input] of inputs) input.classList.toggle("deviates", !sameField(k, fieldText(proto.standing_order, k), input.value));
      };
      inputs.forEach(([, , input]) => input.addEventListener("input", showDeviations));
      const sig = proto?.signature;
      return h("fieldset", { "data-treatment": t },
        h("legend", null, tname(t)),
        h("div", { class: "inline", role: "radiogroup", "aria-label": "Decision for " + tname(t) },
          radios.map(([v, l]) => h("label", { class: "inline" }, h("input", { type: "radio", name: f("outcome"), value: v, checked: v === "approve" }), " " + l)),
        ),
        h("p", { class: "muted", id: f("prefill"), "data-protocol-version": proto ? String(proto.version) : undefined },
          proto ? "Order fields prefilled from the clinic's protocol “" + proto.title + "”, version " + proto.version +
              (sig ? ", signed by " + sig.name + " on " + fmtDate(sig.signed_at) : "") +
              ". Edit as needed: a change is a deviation, recorded on the PSO."
            : last[t] ? "Order fields prefilled from this clinic's last " + tname(t) + " order (" + fmtDate((last[t] as any).decided_at) + "); the clinic has no signed protocol for it. Edit as needed."
            : "No earlier order of this treatment at this clinic and no signed clinic protocol: fill in the order."),
        inputs.map(([, l, input]) => [h("label", { for: input.id }, l), input]).flat(),
        proto ? h("div", null, h("h3", { id: f("deviations-h") }, "Deviations from the protocol"), deviations) : null,
        h("label", { for: f("condition") }, "Conditions (for approval with conditions)"),
        h("input", { id: f("condition"), type: "text" }),
        h("label", { for: f("reason") }, "Reason (required to defer or deny; shown to the clinic)"),
        h("textarea", { id: f("reason"), rows: 2 }),
      );
    }),
    h("label", { for: "d-notes" }, "Notes (for the record)"),
    h("textarea", { id: "d-notes", rows: 3 }),
    h("p", null, h("label", { class: "inline" }, h("input", { type: "checkbox", id: "d-attest" }),
      " I attest that I reviewed this patient's history and photos, that I hold an active licence in " + ex.state + ", and that this order is medically appropriate.")),
    err,
    h("button", { type: "submit", class: "primary", id: "sign" }, "Sign decision"),
    h("div", { id: "pso-area" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitDecision(ex, form, err);
  });
  return form;
}

async function submitDecision(ex: any, form: HTMLFormElement, err: HTMLElement) {
  err.textContent = "";
  const val = (id: string) => ((form.querySelector("#" + CSS.escape(id)) as HTMLInputElement | null)?.value || "").trim();
  const orders: Order[] = [];
  const reasons: string[] = [];
  const notes: string[] = [];
  const kinds: string[] = [];
  for (const t of ex.treatments as string[]) {
    const f = (k: string) => "d-" + t + "-" + k;
    const kind = (form.querySelector(`input[name="${f("outcome")}"]:checked`) as HTMLInputElement).value;
    kinds.push(kind);
    if (kind === "approve" || kind === "conditional") {
      if (kind === "conditional") {
        if (!val(f("condition"))) {
          err.textContent = tname(t) + ": state the conditions of the approval.";
          return;
        }
        notes.push(tname(t) + " approved with conditions: " + val(f("condition")));
      }
      const areas = val(f("areas"));
      orders.push({
        treatment: t, product: val(f("product")), dose: val(f("dose")), route: val(f("route")),
        areas: areas ? areas.split(",").map((s) => s.trim()).filter(Boolean) : undefined,
        frequency: val(f("frequency")) || undefined, quantity: val(f("quantity")) || undefined,
        refills: Number(val(f("refills")) || 0), valid_days: Number(val(f("valid_days")) || 0) || undefined,
      });
    } else {
      if (!val(f("reason"))) {
        err.textContent = tname(t) + ": a reason is required to " + kind + ".";
        (form.querySelector("#" + CSS.escape(f("reason"))) as HTMLElement).focus();
        return;
      }
      const r = tname(t) + " " + (kind === "defer" ? "deferred" : "denied") + ": " + val(f("reason"));
      reasons.push(r);
      notes.push(r);
    }
  }
  const outcome = orders.length ? "approved" : kinds.includes("defer") ? "deferred" : "denied";
  const attested = (form.querySelector("#d-attest") as HTMLInputElement).checked;
  if (outcome === "approved" && !attested) {
    err.textContent = "Attest before signing.";
    return;
  }
  if (val("d-notes")) notes.push(val("d-notes"));
  const body: any = { outcome, notes: notes.join("\n"), reason: reasons.join("; "), attestation: { accepted: attested } };
  if (orders.length) body.orders = orders;
  const btn = form.querySelector("#sign") as HTMLButtonElement;
  btn.disabled = true;
  try {
    const r = await api.json("POST", "/v1/provider/exams/" + encodeURIComponent(ex.id) + "/decision", body, { "Idempotency-Key": idemKey() });
    held.delete(ex.id);
    renderHeld();
    form.querySelectorAll("input, textarea, button").forEach((el) => ((el as HTMLInputElement).disabled = true));
    phone?.finish(ex.id); // the decision ends the call
    const area = form.querySelector("#pso-area") as HTMLElement;
    area.append(h("p", { role: "status", id: "decided" }, "Decision signed: " + r.exam.outcome + "."));
    if (r.pso) area.append(psoPreview(r.pso));
    announce("Decision signed.");
  } catch (e) {
    btn.disabled = false;
    err.textContent = errorText(e) + (e instanceof APIError && e.field ? " (" + e.field + ")" : "");
  }
}

function psoPreview(pso: any): HTMLElement {
  const doc = decodeJWT(pso.jws) as any;
  const rows: [string, string][] = [["PSO id", pso.id], ["Valid until", pso.valid_until], ["SHA-256 of the JWS", pso.sha256]];
  const flat = (o: any, prefix = ""): void => {
    for (const [k, v] of Object.entries(o || {})) {
      if (v && typeof v === "object" && !Array.isArray(v)) flat(v, prefix + k + ".");
      else if (Array.isArray(v) && v.some((x) => x && typeof x === "object")) v.forEach((x, i) => flat(x, prefix + k + "[" + i + "]."));
      else rows.push([prefix + k, Array.isArray(v) ? v.join(", ") : String(v)]);
    }
  };
  flat(doc);
  const dl = h("dl", { class: "grid" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", { class: "text" }, v)]).flat());
  const followed: any[] = (doc.pso || doc).protocols || []; // the document is the JWS's "pso" claim
  return h("section", { id: "pso", "aria-labelledby": "pso-h" },
    h("h2", { id: "pso-h" }, "Signed PSO"),
    followed.length
      ? h("div", { id: "pso-protocols" },
          h("h3", null, "Protocols followed"),
          h("ul", null, followed.map((p) =>
            h("li", { "data-protocol": p.id },
              tname(p.treatment) + ": version " + p.version + ", signed by " + p.signed_by + ". ",
              p.deviations && p.deviations.length ? "Deviations: " + p.deviations.join("; ") + "." : "No deviation.",
            ),
          )),
        )
      : null,
    dl,
    h("button", { type: "button", id: "pso-pdf", onclick: () => api.download("/v1/provider/psos/" + encodeURIComponent(pso.id) + "/pdf", pso.id + ".pdf").catch((e) => announce(errorText(e))) }, "Download PDF"),
  );
}

async function start() {
  cfg = await loadConfig("");
  api = new API(cfg.api || "", () => session?.token || null, () => lock("Your session ended. Sign in again."));
  if (!cfg.issuer) {
    clear(root);
    root.append(h("main", null, h("h1", null, "Provider console"), h("p", { role: "alert" }, "Sign-in is not configured. Locally, start the server with -dev.")));
    return;
  }
  let message: string | null = null;
  try {
    session = await completeSignIn(cfg);
  } catch (e) {
    message = errorText(e);
  }
  if (!session) {
    signInScreen(root, "Provider console", message, () => signIn(cfg));
    return;
  }
  shell();
  const mine = session;
  stopIdle = idleLock(Number(cfg.idle_seconds) || 900, () => lock("The console locked after a period of inactivity."));
  setTimeout(() => session && lock("Your session expired."), Math.max(0, session.expiresAt - Date.now()));
  const online = () => session && api.json("PUT", "/v1/provider/presence", { online: true }).catch(() => {});
  online();
  heartbeat = window.setInterval(online, PRESENCE_MS);
  loadHeld(mine);
  refreshQueue();
  poll = window.setInterval(refreshQueue, Number(cfg.poll_ms) || 5000);
  // The signaling socket: online for video rings, and the call panel.
  const p = await Phone.create({
    base: cfg.api || location.href,
    signal: cfg.signal,
    token: session.token,
    onRing,
    onAccepted: (id) => {
      held.add(id);
      review(id);
      refreshQueue();
    },
    onRefused: (id, message) => {
      if (openExam === id) {
        openExam = null;
        setExamParam(null);
        document.getElementById("review-area")?.replaceChildren(h("p", { class: "error", role: "alert", id: "review-error" }, "The video call of exam " + id + " could not be accepted: " + message));
      }
      refreshQueue();
    },
    onNoShow: (id) => {
      held.delete(id);
      renderHeld();
      const msg = "Exam " + id + " ended as not applicable (not billed): the patient did not answer.";
      announce(msg);
      if (openExam === id) {
        openExam = null;
        setExamParam(null);
        document.getElementById("review-area")?.replaceChildren(h("p", { role: "status", id: "review-ended" }, msg));
      }
    },
    onSocket: (state) => {
      const el = document.getElementById("video-online");
      if (!el) return;
      el.dataset.state = state;
      el.textContent = state === "open" ? "Video calls: online" : state === "closed" ? "Video calls: offline" : "Video calls: reconnecting…";
    },
  });
  if (session !== mine) return p.close(); // locked meanwhile
  phone = p;
  // A reload or a new sign-in reopens the exam that was open.
  const again = new URLSearchParams(location.search).get("exam");
  if (again && !openExam) review(again);
}

start().catch((e) => {
  clear(root);
  root.append(h("main", null, h("h1", null, "Provider console"), h("p", { class: "error", role: "alert" }, "The console could not start: " + errorText(e))));
});
