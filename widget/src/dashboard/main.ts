// The clinic dashboard: sign-in (OIDC clinic admin, or the clinic's secret
// key kept in memory), exams with filters and search, deferral reasons and
// next steps, PSO view and PDF, invites, usage and statements (CSV),
// webhook settings with deliveries and replay, widget settings (treatments,
// hours, branding with a live preview and the contrast guard) and the embed
// snippet; medical oversight (oversight.ts): readiness and why a treatment
// is not offered, chart-review completion, adverse events. A medical
// director signs in with their director token and works the clinics they
// direct. Patient text is always set as text.
import { API, APIError, idemKey } from "../shared/api";
import { Config, completeSignIn, loadConfig, signIn } from "../shared/oidc";
import { announce, clear, errorText, fmtDate, h, idleLock, signInScreen } from "../shared/ui";
import { contrastWithWhite, guardBrand } from "../frame/color";
import { TREATMENT, tname } from "./names";
import { clinicAdverseEvents, clinicOversight, directorAdverseEvents, directorProducts, directorProtocols, directorReadiness, directorReviews } from "./oversight";

const root = document.getElementById("app") as HTMLElement;
// The dashboard's config may name the medical directors' app client.
let cfg: Config & { director_client_id?: string };
const DIRECTOR_SIGNIN = "goodfaith.dashboard.director"; // which client the redirect was for
let credential: string | null = null;
let who = "";
let api: API;
let stopIdle: (() => void) | null = null;
let tab = "exams";
// A medical director's session: who they are, the clinics they direct and
// the one shown (null: a clinic's session).
let director: { name: string; clinics: { id: string; name: string }[]; clinic: string } | null = null;

const TABS: [string, string][] = [["exams", "Exams"], ["invites", "Invites"], ["usage", "Usage & statements"], ["webhooks", "Webhooks"], ["settings", "Widget settings"], ["oversight", "Medical oversight"], ["adverse", "Adverse events"]];
const DIRECTOR_TABS: [string, string][] = [["reviews", "Chart review"], ["protocols", "Protocols"], ["readiness", "Emergency readiness"], ["products", "Products"], ["md-adverse", "Adverse events"]];
const DAYS: [string, string][] = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];

function lock(reason: string) {
  credential = null;
  director = null;
  tab = "exams";
  stopIdle?.();
  stopIdle = null;
  showSignIn(reason);
}

function showSignIn(message: string | null) {
  const key = h("input", { id: "sk", type: "text", autocomplete: "off", spellcheck: "false" }) as HTMLInputElement;
  const keyForm = h("form", { id: "sk-form" },
    h("h2", null, "Or use the clinic's secret key"),
    h("label", { for: "sk" }, "Secret key (sk_…)"), key,
    h("p", null, h("button", { type: "submit" }, "Open with key")),
  );
  keyForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!/^sk_/.test(key.value.trim())) return;
    credential = key.value.trim();
    who = "secret key";
    signedIn();
  });
  const mdToken = h("input", { id: "md-token", type: "password", autocomplete: "off", spellcheck: "false" }) as HTMLInputElement;
  const mdForm = h("form", { id: "md-form" },
    h("h2", null, "Medical director"),
    h("label", { for: "md-token" }, "Director token"), mdToken,
    h("p", null, h("button", { type: "submit" }, "Open as medical director")),
  );
  mdForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (mdToken.value.trim()) openAsDirector(mdToken.value.trim());
  });
  const mdSignIn = cfg.director_client_id
    ? h("p", null, h("button", { type: "button", id: "md-signin", onclick: () => {
        sessionStorage.setItem(DIRECTOR_SIGNIN, "1");
        signIn({ ...cfg, client_id: cfg.director_client_id! });
      } }, "Sign in as medical director"))
    : null;
  signInScreen(root, "Clinic dashboard", message, () => signIn(cfg), h("div", null, mdSignIn, keyForm, mdForm));
  if (message) root.querySelector("h1")!.textContent = "Clinic dashboard — signed out";
}

// openAsDirector opens the dashboard for a medical director's token (from
// their sign-in, or pasted): the clinics they direct, the first shown.
async function openAsDirector(token: string) {
  credential = token;
  try {
    const r = await api.json("GET", "/v1/director/clinics");
    if (!r.clinics.length) throw new Error("You direct no clinic on file.");
    director = { name: r.director.name, clinics: r.clinics, clinic: r.clinics[0].id };
    who = r.director.name + ", " + r.director.credential + " (medical director)";
    tab = "reviews";
    signedIn();
  } catch (x) {
    lock("The director token was not accepted: " + errorText(x));
  }
}

function signedIn() {
  stopIdle = idleLock(Number(cfg.idle_seconds) || 900, () => lock("The dashboard locked after a period of inactivity."));
  render();
}

function render() {
  clear(root);
  root.append(
    h("header", { class: "top" },
      h("strong", null, "Goodfaith clinic dashboard"),
      h("span", { class: "who", id: "who" }, "Signed in: " + who),
      h("button", { type: "button", id: "signout", onclick: () => lock("You signed out.") }, "Sign out"),
    ),
    h("main", null,
      h("p", { id: "status", class: "sr-only", role: "status", "aria-live": "polite" }),
      h("nav", { class: "tabs", "aria-label": "Sections" },
        (director ? DIRECTOR_TABS : TABS).map(([id, label]) => h("button", { type: "button", id: "tab-" + id, "aria-current": id === tab ? "page" : undefined, onclick: () => { tab = id; render(); } }, label)),
      ),
      director && director.clinics.length > 1 ? clinicPicker() : null,
      h("div", { id: "view" }),
    ),
  );
  const view = document.getElementById("view")!;
  const pages: Record<string, (v: HTMLElement) => Promise<void>> = director
    ? {
        reviews: (v) => directorReviews(v, api, director!.clinic),
        protocols: (v) => directorProtocols(v, api, director!.clinic),
        readiness: (v) => directorReadiness(v, api, director!.clinic),
        products: (v) => directorProducts(v, api, director!.clinic),
        "md-adverse": (v) => directorAdverseEvents(v, api, director!.clinic),
      }
    : { exams, invites, usage, webhooks, settings, oversight: (v) => clinicOversight(v, api), adverse: (v) => clinicAdverseEvents(v, api) };
  pages[tab](view).catch((e) => view.append(h("p", { class: "error", role: "alert" }, errorText(e))));
}

function clinicPicker(): HTMLElement {
  const sel = h("select", { id: "md-clinic" }, director!.clinics.map((c) => h("option", { value: c.id, selected: c.id === director!.clinic }, c.name))) as HTMLSelectElement;
  sel.value = director!.clinic;
  sel.addEventListener("change", () => {
    director!.clinic = sel.value;
    render();
  });
  return h("p", null, h("label", { for: "md-clinic" }, "Clinic"), sel);
}

// ---- exams ----

const NEXT: Record<string, string> = {
  deferred: "Contact the patient about the provider's reason, collect what is missing (for example records, a visit or photos), then send a new invite.",
  denied: "Do not treat. Tell the patient, and offer an in-person consultation if appropriate.",
  approved: "The patient may be treated as ordered, within the PSO's validity.",
  not_applicable: "The exam could not be completed: invite the patient again.",
};

async function exams(view: HTMLElement) {
  let items: any[] = [];
  let cursor: string | null = null;
  const status = h("select", { id: "f-status" },
    [["", "Any status"], ["queued", "Queued"], ["claimed", "Under review"], ["decided", "Decided"], ["draft", "Draft"], ["cancelled", "Cancelled"], ["expired", "Expired"]].map(([v, l]) => h("option", { value: v }, l)),
  ) as HTMLSelectElement;
  const outcome = h("select", { id: "f-outcome" },
    [["", "Any outcome"], ["approved", "Approved"], ["deferred", "Deferred"], ["denied", "Denied"], ["not_applicable", "Not applicable"]].map(([v, l]) => h("option", { value: v }, l)),
  ) as HTMLSelectElement;
  const search = h("input", { id: "f-search", type: "search", placeholder: "Name, email or exam id" }) as HTMLInputElement;
  const list = h("div", { id: "exam-list" });
  const detail = h("div", { id: "exam-detail" });
  const more = h("button", { type: "button", id: "more", hidden: true }, "Load more");
  view.append(
    h("h1", null, "Exams"),
    h("div", { class: "row" },
      h("div", null, h("label", { for: "f-status" }, "Status"), status),
      h("div", null, h("label", { for: "f-outcome" }, "Outcome"), outcome),
      h("div", null, h("label", { for: "f-search" }, "Search"), search),
    ),
    detail, list, more,
  );
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = items.filter((e) =>
      (!outcome.value || e.outcome === outcome.value) &&
      (!q || [e.id, e.patient.first_name + " " + e.patient.last_name, e.patient.email].some((s) => String(s).toLowerCase().includes(q))));
    list.replaceChildren(
      shown.length
        ? h("table", { id: "exams-table" },
            h("caption", { class: "sr-only" }, "Exams"),
            h("thead", null, h("tr", null, ["Patient", "Treatments", "Status", "Outcome", "Provider", "Created", "Decided", ""].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", null, shown.map((e) =>
              h("tr", { "data-exam": e.id },
                h("td", { class: "text" }, e.patient.first_name + " " + e.patient.last_name),
                h("td", null, e.treatments.map(tname).join(", ")),
                h("td", null, e.status),
                h("td", null, e.outcome || "—"),
                h("td", null, e.provider_id || "—"),
                h("td", null, fmtDate(e.created_at)),
                h("td", null, fmtDate(e.decided_at)),
                h("td", null, h("button", { type: "button", "aria-label": "View exam " + e.id, onclick: () => showExam(e.id, detail) }, "View")),
              ))),
          )
        : h("p", null, "No exams match."),
    );
    announce(shown.length + " exam(s) shown.");
  };
  const load = async (reset: boolean) => {
    if (reset) {
      items = [];
      cursor = null;
    }
    const q = new URLSearchParams();
    if (status.value) q.set("status", status.value);
    if (cursor) q.set("cursor", cursor);
    const r = await api.json("GET", "/v1/clinic/exams?" + q.toString());
    items = items.concat(r.items);
    cursor = r.next_cursor;
    more.hidden = !cursor;
    draw();
  };
  status.addEventListener("change", () => load(true));
  outcome.addEventListener("change", draw);
  search.addEventListener("input", draw);
  more.addEventListener("click", () => load(false));
  await load(true);
}

async function showExam(id: string, box: HTMLElement) {
  box.replaceChildren(h("p", null, "Loading…"));
  let e: any;
  try {
    e = (await api.json("GET", "/v1/clinic/exams/" + encodeURIComponent(id))).exam;
  } catch (err) {
    box.replaceChildren(h("p", { class: "error", role: "alert" }, errorText(err)));
    return;
  }
  const psoBox = h("div", { id: "pso-box" });
  box.replaceChildren(
    h("section", { id: "exam", "aria-labelledby": "exam-h" },
      h("h2", { id: "exam-h" }, "Exam " + e.id),
      h("dl", { class: "grid" },
        h("dt", null, "Patient"), h("dd", { class: "text", id: "exam-patient" }, e.patient.first_name + " " + e.patient.last_name),
        h("dt", null, "Email"), h("dd", { class: "text" }, e.patient.email),
        h("dt", null, "Treatments"), h("dd", null, e.treatments.map(tname).join(", ")),
        h("dt", null, "Status"), h("dd", null, e.status),
        h("dt", null, "Outcome"), h("dd", { id: "exam-outcome" }, e.outcome || "—"),
        e.reason ? [h("dt", null, "Provider's reason"), h("dd", { class: "text", id: "exam-reason" }, e.reason)] : null,
        e.outcome && NEXT[e.outcome] ? [h("dt", null, "What to do next"), h("dd", { id: "exam-next" }, NEXT[e.outcome])] : null,
      ),
      psoBox,
    ),
  );
  if (e.pso) {
    try {
      const p = (await api.json("GET", "/v1/clinic/psos/" + encodeURIComponent(e.pso.id))).pso;
      psoBox.append(
        h("h3", null, "Patient-specific order"),
        h("dl", { class: "grid", id: "pso" },
          h("dt", null, "PSO id"), h("dd", null, p.id),
          h("dt", null, "Valid until"), h("dd", null, p.valid_until),
          h("dt", null, "Issued"), h("dd", null, fmtDate(p.issued_at)),
          h("dt", null, "SHA-256"), h("dd", { class: "text" }, p.sha256),
          h("dt", null, "Status"), h("dd", null, p.revoked ? "Revoked" : "In force"),
          p.verify_url ? [h("dt", null, "Verify"), h("dd", { class: "text" }, p.verify_url)] : null,
        ),
        h("button", { type: "button", id: "pdf", onclick: () => api.download("/v1/clinic/psos/" + encodeURIComponent(p.id) + "/pdf", p.id + ".pdf").then(() => announce("PDF downloaded."), (x) => announce(errorText(x))) }, "Download PDF"),
      );
    } catch (err) {
      psoBox.append(h("p", { class: "error" }, errorText(err)));
    }
  }
}

// ---- invites ----

async function invites(view: HTMLElement) {
  const out = h("div", { id: "invite-result", role: "status" });
  const field = (id: string, label: string, type = "text") => [h("label", { for: "i-" + id }, label), h("input", { id: "i-" + id, type })];
  const form = h("form", { id: "invite-form", novalidate: true },
    field("first", "Legal first name"), field("last", "Legal last name"), field("dob", "Date of birth", "date"),
    field("email", "Email", "email"), field("phone", "Mobile phone (optional)"), field("state", "State (two letters)"),
    h("fieldset", null, h("legend", null, "Treatments"),
      Object.keys(TREATMENT).map((t) => h("label", { class: "inline" }, h("input", { type: "checkbox", name: "t", value: t }), " " + tname(t)))),
    h("button", { type: "submit", class: "primary" }, "Send invite"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (id: string) => (form.querySelector("#i-" + id) as HTMLInputElement).value.trim();
    const body = {
      patient: { first_name: v("first"), last_name: v("last"), dob: v("dob"), email: v("email"), phone: v("phone") || undefined, state: v("state").toUpperCase() },
      treatments: [...form.querySelectorAll("input[name=t]:checked")].map((x) => (x as HTMLInputElement).value),
    };
    try {
      const r = await api.json("POST", "/v1/clinic/invites", body, { "Idempotency-Key": idemKey() });
      out.replaceChildren(h("p", null, "Invite sent for exam " + r.exam_id + ". Link: "), h("p", { class: "text" }, r.url));
    } catch (x) {
      out.replaceChildren(h("p", { class: "error" }, errorText(x) + (x instanceof APIError && x.field ? " (" + x.field + ")" : "")));
    }
  });
  view.append(h("h1", null, "Invite a patient"), h("p", null, "The patient receives a link to a pre-filled exam by email (and SMS when a phone is given)."), form, out);
}

// ---- usage ----

async function usage(view: HTMLElement) {
  const month = h("input", { id: "u-month", type: "month", value: new Date().toISOString().slice(0, 7) }) as HTMLInputElement;
  const box = h("div", { id: "usage" });
  const load = async () => {
    try {
      const r = await api.json("GET", "/v1/clinic/usage?month=" + encodeURIComponent(month.value));
      box.replaceChildren(
        h("p", { id: "usage-total" }, r.count + " billable exam(s), " + (r.amount_cents / 100).toFixed(2) + " " + r.currency),
        r.items.length
          ? h("table", null, h("caption", { class: "sr-only" }, "Billable exams"),
              h("thead", null, h("tr", null, ["Exam", "Decided", "Outcome", "Amount"].map((c) => h("th", { scope: "col" }, c)))),
              h("tbody", null, r.items.map((i: any) => h("tr", null, h("td", null, i.exam_id), h("td", null, fmtDate(i.decided_at)), h("td", null, i.outcome), h("td", null, (i.amount_cents / 100).toFixed(2))))))
          : h("p", null, "No billable exams this month."),
      );
    } catch (e) {
      box.replaceChildren(h("p", { class: "error" }, errorText(e)));
    }
  };
  month.addEventListener("change", load);
  view.append(
    h("h1", null, "Usage and statements"),
    h("div", { class: "row" },
      h("div", null, h("label", { for: "u-month" }, "Month"), month),
      h("button", { type: "button", id: "csv", onclick: () => api.download("/v1/clinic/statements/" + month.value + ".csv", "goodfaith-statement-" + month.value + ".csv").then(() => announce("Statement downloaded."), (e) => announce(errorText(e))) }, "Download statement (CSV)"),
    ),
    box,
  );
  await load();
}

// ---- webhooks ----

async function webhooks(view: HTMLElement) {
  const url = h("input", { id: "w-url", type: "url", placeholder: "https://example.com/goodfaith" }) as HTMLInputElement;
  const secret = h("div", { id: "w-secret", role: "status" });
  const list = h("div", { id: "deliveries" });
  const form = h("form", { id: "webhook-form" }, h("label", { for: "w-url" }, "Endpoint URL"), url, h("p", null, h("button", { type: "submit", class: "primary" }, "Save endpoint")));
  try {
    const ep = await api.json("GET", "/v1/clinic/webhook");
    url.value = ep.url || "";
  } catch (e) {
    if (!(e instanceof APIError && e.status === 404)) throw e;
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const ep = await api.json("PUT", "/v1/clinic/webhook", { url: url.value.trim() });
      secret.replaceChildren(h("p", null, "Saved. Signing secret (verify Goodfaith-Signature with it):"), h("p", { class: "text" }, ep.secret));
    } catch (x) {
      secret.replaceChildren(h("p", { class: "error" }, errorText(x)));
    }
  });
  const dstatus = h("select", { id: "d-status" },
    [["dead", "Failed (gave up)"], ["pending", "Retrying"], ["delivered", "Delivered"]].map(([v, l]) => h("option", { value: v }, l)),
  ) as HTMLSelectElement;
  dstatus.addEventListener("change", () => load());
  const load = async () => {
    const r = await api.json("GET", "/v1/clinic/webhook/deliveries?status=" + dstatus.value);
    const items: any[] = r.items || [];
    list.replaceChildren(
      items.length
        ? h("table", { id: "deliveries-table" }, h("caption", { class: "sr-only" }, "Recent deliveries"),
            h("thead", null, h("tr", null, ["Event", "Type", "Status", "Attempts", "Created", "Last error", ""].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", null, items.map((d) => {
              const lastLog = (d.attempts_log || [])[d.attempts_log?.length - 1];
              return h("tr", null, h("td", null, d.event_id), h("td", null, d.type), h("td", null, d.status), h("td", null, String(d.attempts)), h("td", null, fmtDate(d.created_at)),
                h("td", { class: "text" }, lastLog ? (lastLog.status ? "HTTP " + lastLog.status : "") + (lastLog.error ? " " + lastLog.error : "") : ""),
                h("td", null, d.status !== "dead" ? null : h("button", { type: "button", "aria-label": "Replay " + d.event_id, onclick: () => api.json("POST", "/v1/clinic/webhook/deliveries/" + encodeURIComponent(d.event_id) + "/replay", undefined, { "Idempotency-Key": idemKey() }).then(() => { announce("Replay queued."); load(); }, (x) => announce(errorText(x))) }, "Replay")));
            })))
        : h("p", { id: "no-deliveries" }, "No deliveries with this status."),
    );
  };
  view.append(
    h("h1", null, "Webhooks"),
    h("p", null, "Events: exam.submitted, exam.decided, pso.signed — each signed with your endpoint's secret."),
    form, secret,
    h("h2", null, "Recent deliveries"),
    h("label", { for: "d-status" }, "Show"), dstatus,
    h("p", null, h("button", { type: "button", id: "replay-failed", onclick: () => api.json("POST", "/v1/clinic/webhook/dead-letters/replay", undefined, { "Idempotency-Key": idemKey() }).then(() => { announce("Failed deliveries queued again."); load(); }, (x) => announce(errorText(x))) }, "Replay all failed deliveries"), " ",
      h("button", { type: "button", onclick: () => load() }, "Refresh")),
    list,
  );
  await load();
}

// ---- widget settings ----

async function settings(view: HTMLElement) {
  const s = await api.json("GET", "/v1/clinic/settings");
  const color = h("input", { id: "s-color", type: "color", value: s.branding.primary_color || "#0b5cad" }) as HTMLInputElement;
  const guardMsg = h("p", { id: "s-guard", role: "status" });
  const previewBtn = h("span", { class: "btn", id: "preview-button" }, "Start your exam");
  const previewLink = h("span", { id: "preview-link" }, "Privacy notice");
  const out = h("div", { id: "s-result", role: "status" });
  const update = () => {
    const g = guardBrand(color.value);
    previewBtn.style.background = g;
    previewLink.style.color = g;
    const asked = color.value.toLowerCase();
    const rgb = [1, 3, 5].map((i) => parseInt(asked.slice(i, i + 2), 16)) as [number, number, number];
    const ratio = contrastWithWhite(rgb);
    guardMsg.textContent = g.toLowerCase() === asked
      ? "Contrast with white text " + ratio.toFixed(1) + ":1 — readable."
      : "Contrast with white text " + ratio.toFixed(1) + ":1 is below 4.5:1: the widget will use the darker " + g + " so buttons stay readable.";
  };
  color.addEventListener("input", update);
  const form = h("form", { id: "settings-form", novalidate: true },
    h("fieldset", null, h("legend", null, "Treatments offered"),
      s.available.map((t: string) => h("label", { class: "inline" }, h("input", { type: "checkbox", name: "treatment", value: t, checked: s.treatments.includes(t) }), " " + tname(t)))),
    h("fieldset", null, h("legend", null, "Opening hours (video visits)"),
      h("label", { for: "s-tz" }, "Time zone"), h("input", { id: "s-tz", type: "text", value: s.timezone || "" }),
      DAYS.map(([d, label]) => {
        const span = s.hours[d] || null;
        return h("div", { class: "row", "data-day": d },
          h("label", { class: "inline" }, h("input", { type: "checkbox", name: "open-" + d, checked: !!span }), " Open " + label),
          h("label", { for: "s-" + d + "-from" }, label + " opens"), h("input", { id: "s-" + d + "-from", type: "time", value: span ? span[0] : "09:00" }),
          h("label", { for: "s-" + d + "-to" }, label + " closes"), h("input", { id: "s-" + d + "-to", type: "time", value: span ? span[1] : "17:00" }),
        );
      }),
      h("p", { class: "muted" }, "No day open means always open."),
    ),
    h("fieldset", null, h("legend", null, "Branding"),
      h("label", { for: "s-color" }, "Primary colour"), color, guardMsg,
      h("div", { class: "preview", id: "preview", "aria-label": "Live preview" }, h("p", null, "Preview"), previewBtn, h("p", null, "Links look like this: ", previewLink)),
    ),
    h("button", { type: "submit", class: "primary" }, "Save settings"),
    out,
  );
  update();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (id: string) => (form.querySelector("#" + id) as HTMLInputElement).value;
    const hours: Record<string, string[]> = {};
    for (const [d] of DAYS) if ((form.querySelector(`input[name=open-${d}]`) as HTMLInputElement).checked) hours[d] = [v("s-" + d + "-from"), v("s-" + d + "-to")];
    const body = {
      treatments: [...form.querySelectorAll("input[name=treatment]:checked")].map((x) => (x as HTMLInputElement).value),
      timezone: v("s-tz").trim(),
      hours,
      branding: { primary_color: color.value },
    };
    try {
      const r = await api.json("PUT", "/v1/clinic/settings", body);
      snippet.textContent = r.embed;
      out.replaceChildren(h("p", null, "Settings saved."));
    } catch (x) {
      out.replaceChildren(h("p", { class: "error", role: "alert" }, errorText(x) + (x instanceof APIError && x.field ? " (" + x.field + ")" : "")));
    }
  });
  const snippet = h("code", { id: "snippet" }, s.embed);
  view.append(
    h("h1", null, "Widget settings"),
    form,
    h("h2", null, "Embed snippet"),
    h("p", null, "Paste this into your website where the exam should appear."),
    h("pre", { class: "snippet" }, snippet),
    h("button", { type: "button", id: "copy", onclick: () => navigator.clipboard.writeText(snippet.textContent || "").then(() => announce("Snippet copied."), () => announce("Copy failed: select the snippet and copy it.")) }, "Copy snippet"),
  );
}

async function start() {
  cfg = await loadConfig("");
  api = new API(cfg.api || "", () => credential, () => lock("Your session ended. Sign in again."));
  let message: string | null = null;
  if (cfg.issuer) {
    const asDirector = sessionStorage.getItem(DIRECTOR_SIGNIN) === "1" && !!cfg.director_client_id;
    sessionStorage.removeItem(DIRECTOR_SIGNIN);
    try {
      const s = await completeSignIn(asDirector ? { ...cfg, client_id: cfg.director_client_id! } : cfg);
      if (s && asDirector) {
        setTimeout(() => credential === s.token && lock("Your session expired."), Math.max(0, s.expiresAt - Date.now()));
        await openAsDirector(s.token);
        return;
      }
      if (s) {
        credential = s.token;
        who = "administrator of " + String(s.claims["goodfaith:clinic_id"] || "");
        setTimeout(() => credential === s.token && lock("Your session expired."), Math.max(0, s.expiresAt - Date.now()));
        signedIn();
        return;
      }
    } catch (e) {
      message = errorText(e);
    }
  }
  showSignIn(message);
  if (!cfg.issuer) root.querySelector("#signin")?.setAttribute("disabled", "");
}

start().catch((e) => {
  clear(root);
  root.append(h("main", null, h("h1", null, "Clinic dashboard"), h("p", { class: "error", role: "alert" }, "The dashboard could not start: " + errorText(e))));
});
