// The provider console: OIDC sign-in (tokens in memory), the live queue
// (polled), claim and release, the review (flags first, identity, answers,
// photos, prior orders at this clinic), the decision per treatment with
// order fields, attestation and signature, the signed PSO's preview and
// PDF, and the idle lock. Everything the patient typed is set as text.
import { API, APIError, idemKey } from "../shared/api";
import { Config, Session, completeSignIn, decodeJWT, loadConfig, signIn } from "../shared/oidc";
import { announce, clear, errorText, fmtDate, h, idleLock, signInScreen } from "../shared/ui";

const root = document.getElementById("app") as HTMLElement;
let cfg: Config;
let session: Session | null = null;
let api: API;
let poll = 0;
let stopIdle: (() => void) | null = null;
const held = new Set<string>();
let openExam: string | null = null;

type Flag = { code: string; display: string; link_id: string };
type Order = { treatment: string; product: string; dose: string; route: string; areas?: string[]; frequency?: string; quantity?: string; refills: number; valid_days?: number };

const TREATMENT: Record<string, string> = {
  neurotoxin: "Neurotoxin", dermal_filler: "Dermal filler", laser_energy: "Laser / energy", iv_therapy: "IV therapy",
  glp1: "GLP-1", peptide: "Peptide", testosterone: "Testosterone",
};
const tname = (t: string) => TREATMENT[t] || t;

function lock(reason: string) {
  // Go offline for new offers (best effort) before the token is dropped.
  if (session) api.json("PUT", "/v1/provider/presence", { online: false }).catch(() => {});
  session = null;
  held.clear();
  openExam = null;
  clearInterval(poll);
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
      h("span", null,
        h("button", { type: "button", id: "lock", onclick: () => lock("You locked the console.") }, "Lock"), " ",
        h("button", { type: "button", id: "signout", onclick: () => lock("You signed out.") }, "Sign out"),
      ),
    ),
    h("main", null,
      h("p", { id: "status", class: "sr-only", role: "status", "aria-live": "polite" }),
      h("div", { id: "review-area" }),
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
  closeReview();
  refreshQueue();
}

function closeReview() {
  openExam = null;
  document.getElementById("review-area")?.replaceChildren();
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
  let ex: any, hist: any;
  try {
    [ex, hist] = await Promise.all([
      api.json("GET", "/v1/provider/exams/" + encodeURIComponent(id)).then((r) => r.exam),
      api.json("GET", "/v1/provider/exams/" + encodeURIComponent(id) + "/history"),
    ]);
  } catch (e) {
    area.replaceChildren(h("p", { class: "error", role: "alert", id: "review-error" }, e instanceof APIError && e.status === 404 ? "This exam is not yours to open." : errorText(e)));
    return;
  }
  const p = ex.patient;
  const flagged = new Set((ex.flags as Flag[]).map((f) => f.link_id));
  const answers = Object.entries(ex.answers as Record<string, unknown>).sort(([a], [b]) => Number(flagged.has(b)) - Number(flagged.has(a)));
  const photos = h("div", { class: "photos", id: "photos" });
  const section = h("section", { id: "review", "aria-labelledby": "review-h" },
    h("h1", { id: "review-h" }, "Review exam " + ex.id),
    h("p", null, h("button", { type: "button", id: "release", onclick: () => release(ex.id) }, "Release back to the queue"), " ",
      h("button", { type: "button", onclick: closeReview }, "Close")),
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
    decisionForm(ex, hist),
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

function decisionForm(ex: any, hist: any): HTMLElement {
  const last: Record<string, Order> = hist.last_orders || {};
  const err = h("p", { class: "error", id: "decision-error", role: "alert" });
  const form = h("form", { id: "decision", novalidate: true },
    h("h2", null, "Decision"),
    ex.treatments.map((t: string) => {
      const pre = last[t];
      const f = (k: string) => "d-" + t + "-" + k;
      const radios = [["approve", "Approve"], ["conditional", "Approve with conditions"], ["defer", "Defer"], ["deny", "Deny"]];
      return h("fieldset", { "data-treatment": t },
        h("legend", null, tname(t)),
        h("div", { class: "inline", role: "radiogroup", "aria-label": "Decision for " + tname(t) },
          radios.map(([v, l]) => h("label", { class: "inline" }, h("input", { type: "radio", name: f("outcome"), value: v, checked: v === "approve" }), " " + l)),
        ),
        h("p", { class: "muted", id: f("prefill") },
          pre ? "Order fields prefilled from this clinic's last " + tname(t) + " order (" + fmtDate((pre as any).decided_at) + "); edit as needed. Clinic protocols are not available yet."
            : "No earlier order of this treatment at this clinic and no clinic protocol yet: fill in the order."),
        ORDER_FIELDS.map(([k, l, type]) => {
          let v: unknown = pre ? (pre as any)[k] : k === "refills" ? 0 : "";
          if (k === "areas" && Array.isArray(v)) v = v.join(", ");
          return [h("label", { for: f(k) }, l), h("input", { id: f(k), name: k, type, value: v === undefined ? "" : String(v), min: type === "number" ? 0 : undefined })];
        }).flat(),
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
  return h("section", { id: "pso", "aria-labelledby": "pso-h" },
    h("h2", { id: "pso-h" }, "Signed PSO"),
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
  stopIdle = idleLock(Number(cfg.idle_seconds) || 900, () => lock("The console locked after a period of inactivity."));
  setTimeout(() => session && lock("Your session expired."), Math.max(0, session.expiresAt - Date.now()));
  api.json("PUT", "/v1/provider/presence", { online: true }).catch(() => {});
  refreshQueue();
  poll = window.setInterval(refreshQueue, Number(cfg.poll_ms) || 5000);
}

start().catch((e) => {
  clear(root);
  root.append(h("main", null, h("h1", null, "Provider console"), h("p", { class: "error", role: "alert" }, "The console could not start: " + errorText(e))));
});
void openExam;
