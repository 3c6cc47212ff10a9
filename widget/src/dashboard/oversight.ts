// Medical-director oversight pages of the dashboard (issue 11).
//
// The clinic (admin sign-in or sk_ key) sees why each treatment is or is not
// offered, chart-review completion, and records and exports adverse events.
// A medical director (director token) works one clinic they direct: the
// chart-review queue (recording agree / concern), protocols with their
// versions and signatures, readiness attestations (attest, revoke) and the
// clinic's adverse events. Everything the server or a patient wrote goes in
// as text (h() never parses HTML).
import { API, APIError, idemKey } from "../shared/api";
import { announce, errorText, fmtDate, h } from "../shared/ui";
import { tname } from "./names";

const pct = (x: number) => Math.round(x * 1000) / 10 + "%";
const fmtDay = (s?: string | null) => (s ? s.slice(0, 10) : "—");
const failure = (x: unknown) => errorText(x) + (x instanceof APIError && x.field ? " (" + x.field + ")" : "");

const STATUS: Record<string, string> = {
  ready: "Ready", missing: "Not attested", expired: "Expired", revoked: "Revoked", no_director: "Not enforced (no medical director)",
};

// ---- shared pieces ----

// completion renders chart-review totals and the per-provider table.
function completion(cr: any): Node[] {
  const t = cr.totals;
  return [
    h("p", { id: "cr-summary" },
      `${t.reviewed} of ${t.sampled} sampled chart(s) reviewed (${pct(t.completion)} complete); ${t.overdue || 0} overdue; ${t.concerns} concern(s). ` +
      `Sample: ${cr.review_percent}% of each provider's decided exams, and every flagged exam.`),
    cr.providers.length
      ? h("table", { id: "cr-providers" }, h("caption", null, "Completion by provider"),
          h("thead", null, h("tr", null, ["Provider", "Decided", "Sampled", "Reviewed", "Overdue", "Concerns", "Complete"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, cr.providers.map((p: any) => h("tr", null,
            h("td", null, p.provider_id || "—"), h("td", null, String(p.decided)), h("td", null, String(p.sampled)), h("td", null, String(p.reviewed)),
            h("td", null, String(p.overdue || 0)), h("td", null, String(p.concerns)), h("td", null, pct(p.completion))))))
      : h("p", null, "No decided exams yet."),
  ];
}

// readinessTable shows each treatment's readiness and, when it is not
// offered, why.
function readinessTable(rs: any[], actions?: (r: any) => Node | null): HTMLElement {
  return h("table", { id: "readiness-table" }, h("caption", null, "Emergency readiness by treatment"),
    h("thead", null, h("tr", null, ["Treatment", "Status", "Offered in the widget", "Attested", "Expires", "Last drill", "Why", actions ? "" : null].filter((c) => c !== null).map((c) => h("th", { scope: "col" }, c as string)))),
    h("tbody", null, rs.map((r) => h("tr", { "data-treatment": r.treatment },
      h("td", null, tname(r.treatment)),
      h("td", { class: "status" }, STATUS[r.status] || r.status),
      h("td", null, r.offered ? "Yes" : "No"),
      h("td", null, r.attestation ? fmtDay(r.attestation.attested_at) + " by " + r.attestation.attested_by : "—"),
      h("td", null, r.attestation ? fmtDay(r.attestation.expires_at) : "—"),
      h("td", null, r.attestation ? r.attestation.last_drill_on : "—"),
      h("td", { class: "text reason" }, r.reason || ""),
      actions ? h("td", null, actions(r)) : null,
    ))));
}

function adverseTable(evs: any[]): HTMLElement {
  if (!evs.length) return h("p", { id: "ae-none" }, "No adverse events recorded.");
  return h("table", { id: "ae-table" }, h("caption", null, "Adverse events, newest first"),
    h("thead", null, h("tr", null, ["Occurred", "Exam", "PSO", "Type", "Severity", "What happened", "Actions taken", "Recorded"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", null, [...evs].reverse().map((e) => h("tr", { "data-event": e.id },
      h("td", null, fmtDate(e.occurred_at)), h("td", null, e.exam_id), h("td", null, e.pso_id || "—"),
      h("td", null, e.type.replace(/_/g, " ")), h("td", null, e.severity.replace(/_/g, " ")),
      h("td", { class: "text" }, e.description), h("td", { class: "text" }, e.actions),
      h("td", null, fmtDate(e.recorded_at) + " by " + e.recorded_by)))));
}

function exportButtons(api: API, path: string, name: string): HTMLElement {
  const dl = (format: string) => () =>
    api.download(path + "?format=" + format, name + "." + format).then(() => announce("Adverse events exported (" + format.toUpperCase() + ")."), (x) => announce(errorText(x)));
  return h("p", null,
    h("button", { type: "button", id: "ae-csv", onclick: dl("csv") }, "Export CSV"), " ",
    h("button", { type: "button", id: "ae-json", onclick: dl("json") }, "Export JSON"));
}

// ---- clinic ----

export async function clinicOversight(view: HTMLElement, api: API) {
  const o = await api.json("GET", "/v1/clinic/oversight");
  const blocked = o.readiness.filter((r: any) => !r.offered);
  view.append(
    h("h1", null, "Medical oversight"),
    h("p", { id: "md-list" }, o.medical_directors.length
      ? "Medical director(s): " + o.medical_directors.map((d: any) => d.name + ", " + d.credential).join("; ")
      : "No medical director is on file: emergency readiness is not enforced."),
    h("h2", null, "Treatments offered in the widget"),
    blocked.length
      ? h("div", { id: "not-offered", role: "alert" }, h("p", null, "Not offered to patients now:"),
          h("ul", null, blocked.map((r: any) => h("li", { class: "text" }, tname(r.treatment) + ": " + r.reason))))
      : h("p", { id: "all-offered" }, "Every treatment you offer is shown in the widget."),
    readinessTable(o.readiness),
    h("h2", null, "Chart review"),
    ...completion(o.chart_review),
  );
}

const AE_TYPES = ["vascular_occlusion", "anaphylaxis", "allergic_reaction", "infection", "nodule_granuloma", "ptosis",
  "vasovagal_syncope", "burn", "hypoglycemia", "gastrointestinal", "injection_site_reaction", "other"];
const SEVERITIES = ["mild", "moderate", "severe", "life_threatening"];

export async function clinicAdverseEvents(view: HTMLElement, api: API) {
  const list = h("div", { id: "ae-list" });
  const out = h("div", { id: "ae-result", role: "status" });
  const field = (id: string, label: string, el: HTMLElement) => h("div", null, h("label", { for: "ae-" + id }, label), el);
  const opts = (xs: string[]) => xs.map((x) => h("option", { value: x }, x.replace(/_/g, " ")));
  const form = h("form", { id: "ae-form", novalidate: true },
    field("exam", "Exam id", h("input", { id: "ae-exam", type: "text", autocomplete: "off", spellcheck: "false" })),
    field("pso", "PSO id (optional)", h("input", { id: "ae-pso", type: "text", autocomplete: "off", spellcheck: "false" })),
    field("type", "Type", h("select", { id: "ae-type" }, opts(AE_TYPES))),
    field("severity", "Severity", h("select", { id: "ae-severity" }, opts(SEVERITIES))),
    field("when", "When it happened (your local time)", h("input", { id: "ae-when", type: "datetime-local" })),
    field("description", "What happened", h("textarea", { id: "ae-description", rows: 3 })),
    field("actions", "Actions taken", h("textarea", { id: "ae-actions", rows: 3 })),
    h("button", { type: "submit", class: "primary" }, "Record adverse event"),
  );
  const load = async () => list.replaceChildren(adverseTable((await api.json("GET", "/v1/clinic/adverse-events")).items));
  // One key per attempt that reaches the server: a double submit records
  // the event once; an answer (success or refusal) retires the key, since
  // the server keeps it for that exact request.
  let key = idemKey();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (id: string) => (form.querySelector("#ae-" + id) as HTMLInputElement).value.trim();
    const when = v("when") ? new Date(v("when")) : null;
    const body = {
      exam_id: v("exam"), pso_id: v("pso") || undefined, type: v("type"), severity: v("severity"),
      occurred_at: when && !isNaN(when.getTime()) ? when.toISOString().replace(/\.\d+Z$/, "Z") : v("when"),
      description: v("description"), actions: v("actions"),
    };
    try {
      const r = await api.json("POST", "/v1/clinic/adverse-events", body, { "Idempotency-Key": key });
      out.replaceChildren(h("p", null, "Recorded " + r.adverse_event.id + ". The medical director has been notified."));
      form.reset();
      key = idemKey();
      await load();
    } catch (x) {
      if (x instanceof APIError) key = idemKey();
      out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
    }
  });
  view.append(
    h("h1", null, "Adverse events"),
    h("p", null, "Record every adverse event against the exam (and its PSO). The medical director is notified; the record is kept with the exam."),
    form, out,
    h("h2", null, "Recorded events"),
    exportButtons(api, "/v1/clinic/adverse-events", "adverse-events"),
    list,
  );
  await load();
}

// ---- medical director ----

export async function directorReviews(view: HTMLElement, api: API, clinic: string) {
  const base = "/v1/director/clinics/" + encodeURIComponent(clinic);
  const summary = h("div", { id: "cr" });
  const queue = h("div", { id: "review-queue" });
  const panel = h("div", { id: "review-panel" });
  const load = async () => {
    const q = await api.json("GET", base + "/reviews");
    summary.replaceChildren(...completion(q));
    queue.replaceChildren(q.items.length
      ? h("table", { id: "review-table" }, h("caption", null, "Sampled charts: unreviewed first, oldest first"),
          h("thead", null, h("tr", null, ["Exam", "Provider", "Outcome", "Decided", "Due", "Sampled because", "Review", ""].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, q.items.map((it: any) => h("tr", { "data-exam": it.exam_id, class: it.overdue ? "overdue" : undefined },
            h("td", null, it.exam_id), h("td", null, it.provider_id), h("td", null, it.outcome), h("td", null, fmtDate(it.decided_at)),
            h("td", null, fmtDay(it.due_at)), h("td", null, it.reason === "flagged" ? "Contraindication flag" : "Random sample"),
            h("td", { class: "review-status" }, it.review ? "Reviewed: " + it.review.verdict : it.overdue ? "Overdue" : "To review"),
            h("td", null, h("button", { type: "button", "aria-label": (it.review ? "Open review of " : "Review ") + it.exam_id, onclick: () => open(it.exam_id) }, it.review ? "Open" : "Review"))))))
      : h("p", null, "No charts are in the sample yet."));
  };
  const open = async (examID: string) => {
    panel.replaceChildren(h("p", null, "Loading…"));
    let r: any;
    try {
      r = await api.json("GET", base + "/reviews/" + encodeURIComponent(examID));
    } catch (x) {
      panel.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
      return;
    }
    const e = r.exam;
    const d = r.decision || {};
    const answers = Object.entries(e.answers || {}).map(([k, v]) => h("li", { class: "text" }, k + ": " + (typeof v === "string" ? v : JSON.stringify(v))));
    const note = h("textarea", { id: "rv-note", rows: 3 }) as HTMLTextAreaElement;
    const out = h("div", { id: "rv-result", role: "status" });
    const form = h("form", { id: "review-form" },
      h("fieldset", null, h("legend", null, "Your review"),
        h("label", { class: "inline" }, h("input", { type: "radio", name: "verdict", value: "agree", checked: true }), " Agree with the decision"),
        h("label", { class: "inline" }, h("input", { type: "radio", name: "verdict", value: "concern" }), " Concern (say why)")),
      h("label", { for: "rv-note" }, "Note (required for a concern)"), note,
      h("p", null, h("button", { type: "submit", class: "primary" }, "Record review")),
      out,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const verdict = (form.querySelector("input[name=verdict]:checked") as HTMLInputElement).value;
      try {
        await api.json("PUT", base + "/reviews/" + encodeURIComponent(examID), { verdict, note: note.value });
        announce("Review recorded.");
        await load();
        await open(examID);
      } catch (x) {
        out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
      }
    });
    panel.replaceChildren(h("section", { "aria-labelledby": "rv-h" },
      h("h2", { id: "rv-h", tabindex: "-1" }, "Chart " + e.id),
      h("dl", { class: "grid" },
        h("dt", null, "Patient"), h("dd", { class: "text", id: "rv-patient" }, e.patient.first_name + " " + e.patient.last_name + ", born " + e.patient.dob + ", " + e.state),
        h("dt", null, "Treatments"), h("dd", null, e.treatments.map(tname).join(", ")),
        h("dt", null, "Flags"), h("dd", { class: "text" }, e.flags.length ? e.flags.map((f: any) => f.display).join("; ") : "None"),
        h("dt", null, "Provider"), h("dd", null, e.provider_id || "—"),
        h("dt", null, "Decision"), h("dd", null, e.outcome || "—"),
        d.reason ? [h("dt", null, "Reason"), h("dd", { class: "text" }, d.reason)] : null,
        d.notes ? [h("dt", null, "Provider's notes"), h("dd", { class: "text" }, d.notes)] : null,
        (d.orders || []).length ? [h("dt", null, "Orders"), h("dd", { class: "text" }, d.orders.map((o: any) => [tname(o.treatment), o.product, o.dose, o.route].join(" · ")).join("\n"))] : null,
      ),
      h("h3", null, "Medical history answers"), h("ul", { id: "rv-answers" }, answers),
      r.review
        ? h("p", { id: "rv-done", class: "text" }, "Reviewed " + fmtDate(r.review.reviewed_at) + " by " + r.review.reviewed_by + ": " + r.review.verdict + (r.review.note ? " — " + r.review.note : ""))
        : form,
    ));
    (panel.querySelector("#rv-h") as HTMLElement).focus();
  };
  view.append(h("h1", null, "Chart review"), await reviewShareForm(api, base, load), summary, panel, queue);
  await load();
}

// reviewShareForm sets the share of each provider's decided exams sampled
// for chart review (flagged exams are always sampled); reload refreshes
// the completion figures, which follow the new share.
async function reviewShareForm(api: API, base: string, reload: () => Promise<void>): Promise<HTMLElement> {
  const st = (await api.json("GET", base + "/settings")).settings;
  const share = h("input", { id: "share-percent", type: "number", min: 0.01, max: 100, step: 0.01, value: String(st.review_percent), "aria-describedby": "share-help" }) as HTMLInputElement;
  const out = h("div", { id: "share-result", role: "status" });
  const form = h("form", { id: "share-form", novalidate: true },
    h("label", { for: "share-percent" }, "Share of each provider's decided exams to review (%)"), share,
    h("p", { id: "share-help", class: "muted" }, "0.01 to 100; the default is 10. Every exam with a contraindication flag is reviewed whatever the share." +
      (st.updated_by ? " Last set by " + st.updated_by + " on " + fmtDay(st.updated_at) + "." : "")),
    h("p", null, h("button", { type: "submit" }, "Save review share")), out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await api.json("PUT", base + "/settings", { review_percent: share.value.trim() === "" ? 0 : Number(share.value) });
      await reload();
      out.replaceChildren(h("p", null, "Chart review now samples " + r.settings.review_percent + "% of each provider's decided exams, and every flagged exam."));
    } catch (x) {
      out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
    }
  });
  return h("section", { "aria-labelledby": "share-h" }, h("h2", { id: "share-h" }, "Review share"), form);
}

export async function directorProtocols(view: HTMLElement, api: API, clinic: string) {
  const base = "/v1/director/clinics/" + encodeURIComponent(clinic);
  const box = h("div", { id: "protocols" });
  const out = h("div", { id: "sign-result", role: "status" });
  const signName = h("input", { id: "sign-name", type: "text", autocomplete: "name" }) as HTMLInputElement;
  const signAccept = h("input", { id: "sign-accept", type: "checkbox" }) as HTMLInputElement;
  let ps: any[] = [];
  const load = async () => {
    ps = (await api.json("GET", base + "/protocols")).protocols;
    box.replaceChildren(h("table", { id: "protocol-table" }, h("caption", null, "Protocols and standing orders by treatment"),
      h("thead", null, h("tr", null, ["Treatment", "In force", "Versions"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, ps.map((p) => h("tr", { "data-treatment": p.treatment },
        h("td", null, tname(p.treatment)),
        h("td", null, p.active ? "Version " + p.active.version + ": " + p.active.title : "None signed"),
        h("td", null, p.versions.length
          ? h("ul", null, p.versions.map((v: any) => h("li", { "data-version": String(v.version) },
              h("span", { class: "text" }, "v" + v.version + " “" + v.title + "” — " + v.standing_order.product + ", " + v.standing_order.dose + ". "),
              h("details", null, h("summary", null, "Read version " + v.version), h("p", { class: "text" }, v.text)),
              v.signature
                ? "Signed by " + v.signature.name + " on " + fmtDay(v.signature.signed_at)
                : [h("strong", null, "Unsigned"), " ", h("button", { type: "button", "aria-label": `Sign ${tname(p.treatment)} protocol version ${v.version}`, onclick: () => sign(p.treatment, v.version) }, "Sign")])))
          : "No protocol written")))),
    ));
  };
  const signKeys = attemptKeys();
  const sign = async (treatment: string, version: number) => {
    const target = treatment + "/" + version;
    try {
      await api.json("POST", `${base}/protocols/${encodeURIComponent(treatment)}/versions/${version}/sign`,
        { accepted: signAccept.checked, name: signName.value }, { "Idempotency-Key": signKeys.key(target) });
      signKeys.answered(target);
      await load();
      out.replaceChildren(h("p", null, tname(treatment) + " protocol version " + version + " signed; it is in force from now."));
    } catch (x) {
      if (x instanceof APIError) signKeys.answered(target);
      out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
    }
  };
  const products: any[] = (await api.json("GET", base + "/products")).products;
  await load();
  view.append(
    h("h1", null, "Protocols"),
    h("p", null, "A version is in force once you sign it, until you sign a later one. Read it, then sign with your full name."),
    h("div", { class: "row" },
      h("div", null, h("label", { for: "sign-name" }, "Your full name (e-signature)"), signName),
      h("div", null, h("label", { class: "inline" }, signAccept, " I have read the version I sign and adopt it as this clinic's protocol"))),
    out, box,
    protocolWriter(api, base, () => ps, products, load));
}

// protocolWriter is the form for a new protocol version: its text and the
// standing order the provider's decision form is prefilled from. It starts
// from the treatment's latest version; the product is one of the clinic's
// enabled catalogue products of that treatment, by one of its labelled
// routes. A new version is unsigned, so not in force, until signed.
function protocolWriter(api: API, base: string, protocols: () => any[], products: any[], reload: () => Promise<void>): HTMLElement {
  const field = (id: string, label: string, el: HTMLElement, help?: string) =>
    h("div", null, h("label", { for: "pw-" + id }, label), el, help ? h("p", { id: "pw-" + id + "-help", class: "muted" }, help) : null);
  const input = (id: string, attrs: Record<string, any> = {}) =>
    h("input", { id: "pw-" + id, type: "text", autocomplete: "off", ...attrs }) as HTMLInputElement;
  const treatment = h("select", { id: "pw-treatment" }, protocols().map((p) => h("option", { value: p.treatment }, tname(p.treatment)))) as HTMLSelectElement;
  const product = h("select", { id: "pw-product" }) as HTMLSelectElement;
  const route = h("select", { id: "pw-route" }) as HTMLSelectElement;
  const title = input("title");
  const text = h("textarea", { id: "pw-text", rows: 6 }) as HTMLTextAreaElement;
  const dose = input("dose");
  const areas = input("areas", { "aria-describedby": "pw-areas-help" });
  const frequency = input("frequency");
  const quantity = input("quantity");
  const refills = input("refills", { type: "number", min: 0, max: 11, step: 1 });
  const validDays = input("valid_days", { type: "number", min: 0, max: 366, step: 1, "aria-describedby": "pw-valid_days-help" });
  const out = h("div", { id: "pw-result", role: "status" });
  const orderable = (t: string) => products.filter((p) => p.category === t && p.orderable && p.enabled);
  const drawRoutes = (want?: string) => {
    const p = products.find((x) => x.id === product.value);
    const rs: string[] = p ? p.routes : [];
    route.replaceChildren(...rs.map((r) => h("option", { value: r }, r)));
    if (want && rs.includes(want)) route.value = want;
  };
  // fill starts the form from the treatment's latest version, if any.
  const fill = () => {
    const t = treatment.value;
    const latest = (protocols().find((p) => p.treatment === t)?.versions || []).slice(-1)[0];
    const so = latest ? latest.standing_order : {};
    const ps = orderable(t);
    product.replaceChildren(...ps.map((p) => h("option", { value: p.id }, p.name + (p.generic ? " (" + p.generic + ")" : "") + (p.fda_status.startsWith("compounded") ? " — compounded" : ""))));
    if (so.product && ps.some((p) => p.id === so.product)) product.value = so.product;
    drawRoutes(so.route);
    title.value = latest ? latest.title : "";
    text.value = latest ? latest.text : "";
    dose.value = so.dose || "";
    areas.value = (so.areas || []).join(", ");
    frequency.value = so.frequency || "";
    quantity.value = so.quantity || "";
    refills.value = String(so.refills ?? 0);
    validDays.value = so.valid_days ? String(so.valid_days) : "";
    out.replaceChildren(h("p", { class: "muted" }, latest
      ? "Starting from version " + latest.version + "; saving writes version " + (latest.version + 1) + "."
      : "No version yet; saving writes version 1."));
  };
  treatment.addEventListener("change", fill);
  product.addEventListener("change", () => drawRoutes());
  const whole = (v: string) => (v.trim() === "" ? 0 : Number(v));
  const form = h("form", { id: "protocol-form", novalidate: true },
    field("treatment", "Treatment", treatment),
    field("title", "Title", title),
    field("text", "Protocol text", text),
    h("fieldset", null, h("legend", null, "Standing order (prefills the provider's decision form)"),
      field("product", "Product (the clinic's enabled products)", product),
      field("route", "Route (as labelled)", route),
      field("dose", "Dose", dose),
      field("areas", "Areas", areas, "Separate areas with commas."),
      field("frequency", "Frequency", frequency),
      field("quantity", "Quantity", quantity),
      field("refills", "Refills (0–11)", refills),
      field("valid_days", "Valid for (days)", validDays, "0 or empty: the rules' maximum; at most 366.")),
    h("p", null, h("button", { type: "submit", class: "primary" }, "Save as a new version")),
    out,
  );
  // One key per attempt that reaches the server (as for adverse events):
  // a double submit writes one version.
  let key = idemKey();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const t = treatment.value;
    const body = {
      treatment: t, title: title.value, text: text.value,
      standing_order: {
        product: product.value, route: route.value, dose: dose.value.trim(),
        areas: areas.value.split(",").map((x) => x.trim()).filter(Boolean),
        frequency: frequency.value.trim(), quantity: quantity.value.trim(),
        refills: whole(refills.value), valid_days: whole(validDays.value),
      },
    };
    try {
      const r = await api.json("POST", base + "/protocols", body, { "Idempotency-Key": key });
      key = idemKey();
      await reload();
      fill();
      out.replaceChildren(h("p", null, tname(t) + " protocol version " + r.protocol.version + " written. It is not in force until you sign it."));
    } catch (x) {
      if (x instanceof APIError) key = idemKey();
      out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
    }
  });
  fill();
  return h("section", { "aria-labelledby": "pw-h" }, h("h2", { id: "pw-h" }, "Write a new version"), form);
}

export async function directorReadiness(view: HTMLElement, api: API, clinic: string) {
  const base = "/v1/director/clinics/" + encodeURIComponent(clinic);
  const box = h("div", { id: "readiness" });
  const formBox = h("div", { id: "attest" });
  const out = h("div", { id: "attest-result", role: "status" });
  const load = async () => {
    const r = await api.json("GET", base + "/readiness");
    box.replaceChildren(readinessTable(r.readiness, (x) => x.status === "ready"
      ? h("button", { type: "button", "aria-label": "Revoke " + tname(x.treatment) + " readiness", onclick: () => revoke(x.treatment) }, "Revoke")
      : null));
    const treatment = h("select", { id: "at-treatment" }, r.readiness.map((x: any) => h("option", { value: x.treatment }, tname(x.treatment)))) as HTMLSelectElement;
    const items = h("fieldset", { id: "at-items" });
    const drawItems = () => {
      const need: string[] = r.readiness.find((x: any) => x.treatment === treatment.value)?.required_items || [];
      items.replaceChildren(h("legend", null, "I attest that the clinic has"),
        ...need.map((it) => h("div", null, h("label", { class: "inline" }, h("input", { type: "checkbox", name: "item", value: it }), " " + (r.items[it] || it)))));
    };
    treatment.addEventListener("change", drawItems);
    drawItems();
    const form = h("form", { id: "attest-form" },
      h("label", { for: "at-treatment" }, "Treatment"), treatment, items,
      h("label", { for: "at-drill" }, "Last emergency drill"), h("input", { id: "at-drill", type: "date" }),
      h("label", { for: "at-months" }, "Valid for (months, 1–12)"), h("input", { id: "at-months", type: "number", min: 1, max: 12, value: 12 }),
      h("p", null, h("button", { type: "submit", class: "primary" }, "Attest readiness")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const checked: Record<string, boolean> = {};
      form.querySelectorAll("input[name=item]:checked").forEach((x) => (checked[(x as HTMLInputElement).value] = true));
      const v = (id: string) => (form.querySelector("#" + id) as HTMLInputElement).value;
      try {
        await api.json("PUT", base + "/readiness/" + encodeURIComponent(treatment.value), { items: checked, last_drill_on: v("at-drill"), valid_months: Number(v("at-months")) || 0 });
        const t = treatment.value;
        await load();
        out.replaceChildren(h("p", null, tname(t) + ": readiness attested."));
      } catch (x) {
        out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
      }
    });
    formBox.replaceChildren(h("h2", null, "Attest readiness"), h("p", { class: "muted text" }, r.basis), form);
  };
  const revokeKeys = attemptKeys();
  const revoke = async (treatment: string) => {
    const reason = (document.getElementById("rk-reason") as HTMLInputElement).value.trim();
    try {
      await api.json("POST", `${base}/readiness/${encodeURIComponent(treatment)}/revoke`, { reason }, { "Idempotency-Key": revokeKeys.key(treatment) });
      revokeKeys.answered(treatment);
      await load();
      out.replaceChildren(h("p", null, tname(treatment) + ": readiness revoked; the widget no longer offers it."));
    } catch (x) {
      if (x instanceof APIError) revokeKeys.answered(treatment);
      out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
    }
  };
  view.append(
    h("h1", null, "Emergency readiness"),
    h("p", null, "A treatment is offered to patients only while its readiness is attested and not expired or revoked."),
    box,
    h("div", null, h("label", { for: "rk-reason" }, "Reason for a revocation"), h("input", { id: "rk-reason", type: "text" })),
    out, formBox,
  );
  await load();
}

// directorProducts is the clinic's formulary over the catalogue: FDA
// status, NDCs with their source, and what still needs the director's
// review; approved products can be disabled and enabled again here
// (compounded ones need an explicit acknowledgement).
export async function directorProducts(view: HTMLElement, api: API, clinic: string) {
  const base = "/v1/director/clinics/" + encodeURIComponent(clinic);
  const box = h("div", { id: "products" });
  const out = h("div", { id: "product-result", role: "status" });
  const load = async () => {
    const r = await api.json("GET", base + "/products");
    box.replaceChildren(h("p", { class: "muted" }, "Catalogue version " + r.catalog_version + "."),
      h("table", { id: "product-table" }, h("caption", null, "Products a PSO may name"),
        h("thead", null, h("tr", null, ["Product", "Category", "FDA status", "NDCs", "Needs your review", "Enabled", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, r.products.map((p: any) => h("tr", { "data-product": p.id },
          h("td", null, p.name + (p.generic ? " (" + p.generic + ")" : "")),
          h("td", null, tname(p.category)),
          h("td", null, p.fda_status_label),
          h("td", { class: "ndcs" }, (p.ndcs || []).join(", ") || "—"),
          h("td", { class: "text review" }, [p.ndc_review, p.uncertain].filter(Boolean).join(" ")),
          h("td", { class: "enabled" }, p.orderable ? (p.enabled ? "Yes" : "No") : "Never (not orderable)"),
          h("td", null, p.orderable && !p.fda_status.startsWith("compounded")
            ? h("button", { type: "button", "aria-label": (p.enabled ? "Disable " : "Enable ") + p.name, onclick: () => set(p, !p.enabled) }, p.enabled ? "Disable" : "Enable")
            : null))))));
  };
  const set = async (p: any, enabled: boolean) => {
    try {
      await api.json("PUT", base + "/products/" + encodeURIComponent(p.id), { enabled });
      await load();
      out.replaceChildren(h("p", null, p.name + (enabled ? " enabled." : " disabled: PSOs at this clinic can no longer order it.")));
    } catch (x) {
      out.replaceChildren(h("p", { class: "error", role: "alert" }, failure(x)));
    }
  };
  view.append(h("h1", null, "Products"), h("p", null, "Only enabled products can be ordered on a PSO. NDCs are listed only where a cited source shows them."), out, box);
  await load();
}

export async function directorAdverseEvents(view: HTMLElement, api: API, clinic: string) {
  const path = "/v1/director/clinics/" + encodeURIComponent(clinic) + "/adverse-events";
  const evs = (await api.json("GET", path)).items;
  view.append(h("h1", null, "Adverse events"), exportButtons(api, path, "adverse-events-" + clinic), adverseTable(evs));
}

// attemptKeys hands out one Idempotency-Key per target (a protocol version
// to sign, a treatment to revoke) until the server answers: a double click,
// or a retry after an answer lost on the network, reuses the key, so the
// action happens once. An answer (success or refusal) retires the key,
// since the server keeps it for that exact request.
function attemptKeys() {
  const keys = new Map<string, string>();
  return {
    key(target: string): string {
      let k = keys.get(target);
      if (!k) keys.set(target, (k = idemKey()));
      return k;
    },
    answered(target: string): void {
      keys.delete(target);
    },
  };
}
