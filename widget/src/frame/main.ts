// The Goodfaith frame app: the patient's whole asynchronous exam, inside an
// iframe served from our origin. Plain DOM, no framework; every piece of
// text is inserted as text (see dom.ts).

import { h, clear, Child } from "./dom";
import { guardBrand } from "./color";
import { pickLang, translator, treatmentName, Lang, Key } from "./i18n";
import { VideoVisit } from "./video";

// ---------- types of the API (docs: shared/design/API.md) ----------

// FHIR puts a primitive's extensions in "_<name>": here, its translations
// (http://hl7.org/fhir/StructureDefinition/translation).
interface FhirExt { url: string; valueCode?: string; valueString?: string; extension?: FhirExt[] }
interface FhirElement { extension?: FhirExt[] }
interface Coding { code: string; display: string; _display?: FhirElement }
interface Item {
  linkId: string;
  text: string;
  _text?: FhirElement;
  type: string;
  required?: boolean;
  answerOption?: { valueCoding?: Coding; valueString?: string; _valueString?: FhirElement }[];
  enableWhen?: { question: string; operator: string; answerBoolean?: boolean; answerCoding?: Coding; answerString?: string }[];
  item?: Item[];
  forAsync?: boolean; // widget's own: photos needed for an online review only
}
interface Questionnaire { id: string; title: string; _title?: FhirElement; item: Item[] }
interface RuleView { modalities: string[]; async_requires_photos: boolean }
interface Config {
  clinic: { id: string; name: string; branding: Record<string, string> };
  treatments: { id: string; name: string; category: string }[];
  states: string[];
  questionnaires: Record<string, Questionnaire>;
  hours: { timezone: string; weekly: Record<string, string[]> };
  languages: string[];
  // rules[state][treatment]: what the rules require there (API extra field).
  rules?: Record<string, Record<string, RuleView>>;
}
interface Exam {
  id: string;
  status: string;
  outcome?: string;
  reason?: string;
  modality: string;
  modalities_allowed: string[];
  state?: string;
  treatments?: string[];
  patient?: { first_name: string; last_name?: string; dob?: string; email?: string; phone?: string; state?: string };
  answers?: Record<string, Answer>;
  consents?: { telehealth: boolean; privacy: boolean };
  pso?: { id: string; valid_until: string };
}
interface ApiError { code: string; message: string; field?: string }

type Answer = boolean | string | number | string[];
interface Identity {
  state: string; first: string; last: string; confirmName: string;
  dob: string; confirmDob: string; email: string; phone: string;
}
interface Saved {
  step: Step;
  treatments: string[];
  identity: Identity;
  answers: Record<string, Answer>;
  consents: { telehealth: boolean; privacy: boolean };
  modality: string;
  examId?: string;
  token?: string;
  allowed?: string[];
  submitKey?: string;
  submittedSent?: boolean;
  decidedSent?: boolean;
}

const STEPS = ["treatments", "identity", "questions", "consent", "modality", "review", "status"] as const;
type Step = (typeof STEPS)[number];

const PHOTO_TYPES = ["image/jpeg", "image/png", "image/heic"];
const PHOTO_MAX = 10 << 20;
const POLL_MS = 2000;

// ---------- page parameters ----------

const params = new URLSearchParams(location.search);
const KEY = params.get("key") || "";
const HOST_ORIGIN = params.get("origin") || "";
// An invite link (internal/invite) opens this app as a page of our own
// origin: /widget/?exam=…#patient_token=…, with no publishable key.
const INVITE_EXAM = KEY ? "" : params.get("exam") || "";
const STORE_KEY = "goodfaith:" + (INVITE_EXAM ? "invite:" + INVITE_EXAM : KEY);
const app = document.getElementById("app") as HTMLElement;

let cfg: Config;
let lang: Lang = "en";
let t = translator("en");
let s: Saved = fresh();
let exam: Exam | null = null;
let pollTimer = 0;

function fresh(): Saved {
  return {
    step: "treatments",
    treatments: [],
    identity: { state: "", first: "", last: "", confirmName: "", dob: "", confirmDob: "", email: "", phone: "" },
    answers: {},
    consents: { telehealth: false, privacy: false },
    modality: "",
  };
}

// Progress lives in this frame origin's sessionStorage only: it survives a
// reload, ends with the tab, and the host page cannot read it.
function save() {
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(s));
  } catch {
    /* storage full or blocked: progress is then kept in memory only */
  }
}
function restore(): Saved | null {
  try {
    const raw = sessionStorage.getItem(STORE_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as Saved;
    return v && STEPS.indexOf(v.step) >= 0 ? { ...fresh(), ...v } : null;
  } catch {
    return null;
  }
}

// ---------- host messaging (never any patient data) ----------

function post(type: string, extra?: Record<string, number>) {
  if (!HOST_ORIGIN || window.parent === window) return;
  try {
    window.parent.postMessage({ type, ...extra }, HOST_ORIGIN);
  } catch {
    /* a malformed origin parameter: nothing to tell */
  }
}

let lastHeight = 0;
function reportHeight() {
  const height = Math.ceil(document.body.getBoundingClientRect().height) + 2;
  if (height !== lastHeight) {
    lastHeight = height;
    post("goodfaith:resize", { height });
  }
}

// ---------- API ----------

class HttpError extends Error {
  constructor(public status: number, public err: ApiError, public body: unknown) {
    super(err.message);
  }
}

async function api<T>(method: string, path: string, body?: unknown, idemKey?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (s.token && (INVITE_EXAM || !path.startsWith("/v1/widget")) && path !== "/v1/exams") headers["Authorization"] = "Bearer " + s.token;
  else headers["X-Goodfaith-Key"] = KEY;
  if (idemKey) headers["Idempotency-Key"] = idemKey;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store" });
  } catch {
    throw new HttpError(0, { code: "network", message: t("networkError") }, null);
  }
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data as { error?: ApiError } | null)?.error || { code: "http_" + res.status, message: t("networkError") };
    throw new HttpError(res.status, e, data);
  }
  return data as T;
}

function randomKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// ---------- errors shown inline ----------

type Errors = Record<string, string>; // element id → message

let stepErrors: Errors = {};
let stepAlert = "";

function fieldError(id: string): Child {
  const msg = stepErrors[id];
  return msg ? h("p", { class: "error", id: id + "-err" }, msg) : null;
}
function invalid(id: string) {
  return stepErrors[id] ? { "aria-invalid": "true", "aria-describedby": id + "-err" } : {};
}

function errorSummary(): Child {
  const ids = Object.keys(stepErrors);
  if (!ids.length && !stepAlert) return null;
  return h(
    "div",
    { class: "summary", role: "alert", tabindex: "-1", id: "summary" },
    h("p", null, stepAlert || t("errorsHeading")),
    ids.length
      ? h("ul", null, ids.map((id) => h("li", null, h("a", { href: "#" + id, onclick: focusField(id) }, stepErrors[id]))))
      : null,
  );
}

function focusField(id: string): EventListener {
  return (e: Event) => {
    e.preventDefault();
    const el = document.getElementById(id);
    if (el) el.focus();
  };
}

// ---------- rendering ----------

function go(step: Step, errors: Errors = {}, alert = "") {
  s.step = step;
  stepErrors = errors;
  stepAlert = alert;
  save();
  render();
}

function render() {
  clearTimeout(pollTimer);
  clear(app);
  const n = STEPS.indexOf(s.step) + 1;
  const header = h(
    "header",
    { class: "top" },
    h("p", { class: "clinic" }, cfg.clinic.name),
    cfg.languages.indexOf("es") >= 0
      ? h(
          "label",
          { class: "lang" },
          t("language") + " ",
          h(
            "select",
            { id: "lang", onchange: onLang },
            h("option", { value: "en", selected: lang === "en" }, "English"),
            h("option", { value: "es", selected: lang === "es" }, "Español"),
          ),
        )
      : null,
  );
  const body = views[s.step]();
  app.append(header);
  if (s.step !== "status") {
    app.append(
      h("p", { class: "progress", id: "progress" }, t("stepOf", { n, total: STEPS.length - 1 })),
      h("div", { class: "bar", "aria-hidden": "true" }, h("span", { class: "fill s" + n })),
    );
  }
  app.append(body);
  const focus = (stepErrors && Object.keys(stepErrors).length) || stepAlert ? document.getElementById("summary") : app.querySelector("h1");
  if (focus && rendered) (focus as HTMLElement).focus();
  rendered = true;
  reportHeight();
}
let rendered = false;

function onLang(e: Event) {
  setLang((e.target as HTMLSelectElement).value === "es" ? "es" : "en");
  render();
  (document.getElementById("lang") as HTMLElement).focus();
}

function setLang(l: Lang) {
  lang = l;
  t = translator(l);
  document.documentElement.lang = l;
  document.title = t("title") + " · " + cfg.clinic.name;
}

const TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation";

// tr is text in the patient's language: the element's FHIR translation
// when the questionnaire has one, else the text itself.
function tr(text: string, el?: FhirElement): string {
  if (!el || lang === "en") return text;
  for (const x of el.extension || []) {
    if (x.url !== TRANSLATION) continue;
    const parts = x.extension || [];
    const l = parts.find((p) => p.url === "lang");
    const c = parts.find((p) => p.url === "content");
    if (l && l.valueCode === lang && c && c.valueString) return c.valueString;
  }
  return text;
}
function itemText(it: Item): string {
  return tr(it.text, it._text);
}
function optionText(o: NonNullable<Item["answerOption"]>[number]): string {
  return o.valueCoding ? tr(o.valueCoding.display, o.valueCoding._display) : tr(o.valueString || "", o._valueString);
}

function section(title: Key, hint: Key | null, ...children: (Child | Child[])[]) {
  return h("section", null, h("h1", { tabindex: "-1" }, t(title)), hint ? h("p", { class: "hint" }, t(hint)) : null, errorSummary(), ...children);
}

function nav(onNext: () => void, nextLabel: Key = "next", back?: Step) {
  return h(
    "div",
    { class: "nav" },
    back ? h("button", { type: "button", class: "secondary", onclick: () => go(back) }, t("back")) : null,
    h("button", { type: "submit", class: "primary", id: "next" }, t(nextLabel)),
  );
}

function form(onSubmit: () => void | Promise<void>, ...children: (Child | Child[])[]) {
  const f = h("form", { novalidate: true }, ...children);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = f.querySelector("button[type=submit]") as HTMLButtonElement | null;
    if (btn?.disabled) return;
    if (btn) btn.disabled = true;
    try {
      await onSubmit();
    } finally {
      if (btn && btn.isConnected) btn.disabled = false;
    }
  });
  return f;
}

const views: Record<Step, () => HTMLElement> = {
  treatments: viewTreatments,
  identity: viewIdentity,
  questions: viewQuestions,
  consent: viewConsent,
  modality: viewModality,
  review: viewReview,
  status: viewStatus,
};

// ---------- step 1: treatments ----------

function viewTreatments() {
  const locked = !!s.examId;
  return section(
    "treatmentsTitle",
    locked ? (INVITE_EXAM ? "identityInvite" : "identityLocked") : null,
    form(
      () => {
        if (locked) return go("identity");
        if (!s.treatments.length) return go("treatments", { "t-0": t("chooseTreatment") });
        go("identity");
      },
      h(
        "fieldset",
        { id: "treatments" },
        h("legend", null, t("treatmentsHint")),
        cfg.treatments.map((tr, i) =>
          h(
            "div",
            { class: "check" },
            h("input", {
              type: "checkbox",
              id: "t-" + i,
              name: "treatment",
              value: tr.id,
              checked: s.treatments.indexOf(tr.id) >= 0,
              disabled: locked,
              ...(i === 0 ? invalid("t-0") : {}),
              onchange: (e: Event) => {
                const on = (e.target as HTMLInputElement).checked;
                s.treatments = cfg.treatments.map((x) => x.id).filter((id) => (id === tr.id ? on : s.treatments.indexOf(id) >= 0));
                save();
              },
            }),
            h("label", { for: "t-" + i }, treatmentName(lang, tr.id, tr.name)),
          ),
        ),
        fieldError("t-0"),
      ),
      locked ? startOverButton() : null,
      nav(() => {}),
    ),
  );
}

// ---------- step 2: state and identity ----------

const idFields: [keyof Identity, Key, string, string][] = [
  ["first", "firstName", "text", "given-name"],
  ["last", "lastName", "text", "family-name"],
  ["confirmName", "confirmName", "text", "off"],
  ["dob", "dob", "date", "bday"],
  ["confirmDob", "confirmDob", "date", "off"],
  ["email", "email", "email", "email"],
  ["phone", "phone", "tel", "tel"],
];

function norm(x: string) {
  return x.trim().replace(/\s+/g, " ").toLowerCase();
}

function viewIdentity() {
  const locked = !!s.examId;
  const id = s.identity;
  return section(
    "identityTitle",
    INVITE_EXAM ? "identityInvite" : locked ? "identityLocked" : "identityHint",
    form(
      async () => {
        if (locked) return go("questions");
        const errs: Errors = {};
        if (!id.state) errs["f-state"] = t("required");
        for (const [k] of idFields) if (k !== "phone" && !id[k].trim()) errs["f-" + k] = t("required");
        if (id.confirmName && id.first && id.last && norm(id.confirmName) !== norm(id.first + " " + id.last)) errs["f-confirmName"] = t("nameMismatch");
        if (id.dob && id.confirmDob && id.dob !== id.confirmDob) errs["f-confirmDob"] = t("dobMismatch");
        if (Object.keys(errs).length) return go("identity", errs);
        await createExam();
      },
      h(
        "div",
        { class: "field" },
        h("label", { for: "f-state" }, t("state")),
        h(
          "select",
          { id: "f-state", autocomplete: "address-level1", disabled: locked, ...invalid("f-state"), onchange: bindIdentity("state") },
          h("option", { value: "" }, t("chooseState")),
          cfg.states.map((st) => h("option", { value: st, selected: id.state === st }, st)),
        ),
        fieldError("f-state"),
      ),
      idFields.map(([k, label, type, ac]) =>
        h(
          "div",
          { class: "field" },
          h("label", { for: "f-" + k }, t(label)),
          h("input", { id: "f-" + k, type, value: id[k], autocomplete: ac, readonly: locked, maxlength: type === "date" ? undefined : 100, ...invalid("f-" + k), oninput: bindIdentity(k) }),
          fieldError("f-" + k),
        ),
      ),
      locked ? startOverButton() : null,
      nav(() => {}, "next", "treatments"),
    ),
  );
}

function bindIdentity(k: keyof Identity): EventListener {
  return (e: Event) => {
    s.identity[k] = (e.target as HTMLInputElement).value;
    save();
  };
}

const patientFieldIds: Record<string, string> = {
  "patient.first_name": "f-first",
  "patient.last_name": "f-last",
  "patient.dob": "f-dob",
  "patient.email": "f-email",
  "patient.phone": "f-phone",
  "patient.state": "f-state",
};

async function createExam() {
  const id = s.identity;
  try {
    const r = await api<{ exam: Exam; patient_token: string }>(
      "POST",
      "/v1/exams",
      {
        patient: { first_name: id.first.trim(), last_name: id.last.trim(), dob: id.dob, email: id.email.trim(), phone: id.phone.trim(), state: id.state },
        treatments: s.treatments,
      },
      s.submitKey || (s.submitKey = randomKey()),
    );
    s.examId = r.exam.id;
    s.token = r.patient_token;
    s.allowed = r.exam.modalities_allowed;
    s.modality = r.exam.modality;
    s.submitKey = undefined;
    exam = r.exam;
    go("questions");
  } catch (e) {
    s.submitKey = undefined;
    const err = (e as HttpError).err;
    const fid = err.field && (patientFieldIds[err.field] || (err.field.startsWith("treatments") ? "f-state" : ""));
    if (fid) go("identity", { [fid]: err.message });
    else go("identity", {}, err.message);
  }
}

function startOverButton() {
  if (INVITE_EXAM) return null; // the clinic made this exam: nothing to start over
  return h(
    "p",
    null,
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: async () => {
          if (s.examId && s.token) {
            try {
              await api("POST", "/v1/exams/" + s.examId + "/cancel");
            } catch {
              /* already decided or gone: start over anyway */
            }
          }
          s = fresh();
          exam = null;
          go("treatments");
        },
      },
      t("startOver"),
    ),
  );
}

// ---------- step 3: questionnaire ----------

// The questionnaires of the chosen treatments, merged: a linkId asked by
// several is asked once (required if any requires it); groups flattened.
function mergedItems(): Item[] {
  const out: Item[] = [];
  const seen: Record<string, Item> = {};
  const walk = (items: Item[]) => {
    for (const it of items) {
      if (it.type === "group") {
        walk(it.item || []);
        continue;
      }
      const prev = seen[it.linkId];
      if (prev) {
        if (it.required && !prev.required) seen[it.linkId] = Object.assign(prev, { required: true });
        continue;
      }
      seen[it.linkId] = { ...it };
      out.push(seen[it.linkId]);
    }
  };
  for (const x of s.treatments) {
    const q = cfg.questionnaires[x];
    if (q) walk(q.item);
  }
  // Photos the rules require for an online review are asked up front. Where
  // video is no alternative the photo question becomes required; else it
  // says photos are needed for an online review, and the visit-type step
  // holds an online review without them. Where the chosen treatments have
  // no photo question, one is added (its answer goes in "attachments").
  if (photosRequired()) {
    const photo = out.filter((it) => it.type === "attachment");
    if (!photo.length) {
      const extra: Item = { linkId: EXTRA_PHOTOS, text: t("photosExtra"), type: "attachment" };
      out.push(extra);
      photo.push(extra);
    }
    const video = videoPossible();
    photo.forEach((it) => (video ? (it.forAsync = true) : (it.required = true)));
  }
  return out;
}

// videoPossible: a video visit is allowed for this exam and offered now.
function videoPossible(): boolean {
  const allowed = s.allowed || (exam ? exam.modalities_allowed : []);
  return allowed.indexOf("video") >= 0 && clinicOpen(cfg.hours);
}

// EXTRA_PHOTOS is the linkId of the photo question the widget adds.
const EXTRA_PHOTOS = "_photos";

// photosRequired: the visit type is an online (async) review and the rules
// of the patient's state ask photos for it for one of the chosen treatments
// (config rules[state][treatment].async_requires_photos).
function photosRequired(modality = s.modality): boolean {
  if (modality !== "async") return false;
  const per = (cfg.rules || {})[s.identity.state] || {};
  return s.treatments.some((x) => !!per[x] && per[x].async_requires_photos);
}

function photoCount(): number {
  return mergedItems()
    .filter((it) => it.type === "attachment")
    .reduce((n, it) => n + ((s.answers[it.linkId] as string[] | undefined) || []).length, 0);
}

function enabled(it: Item): boolean {
  for (const w of it.enableWhen || []) {
    const got = s.answers[w.question];
    if (got === undefined) return false;
    if (w.answerBoolean !== undefined && got !== w.answerBoolean) return false;
    if (w.answerCoding && got !== w.answerCoding.code) return false;
    if (w.answerString !== undefined && got !== w.answerString) return false;
  }
  return true;
}

function missing(it: Item): boolean {
  const v = s.answers[it.linkId];
  if (v === undefined || v === "") return true;
  if (typeof v === "string" && !v.trim()) return true;
  return Array.isArray(v) && v.length === 0;
}

function qid(it: Item) {
  return "q-" + it.linkId;
}

function refreshEnabled() {
  for (const it of mergedItems()) {
    const wrap = document.getElementById("w-" + it.linkId);
    if (wrap) wrap.hidden = !enabled(it);
  }
  reportHeight();
}

function setAnswer(it: Item, v: Answer | undefined) {
  if (v === undefined || v === "") delete s.answers[it.linkId];
  else s.answers[it.linkId] = v;
  save();
  refreshEnabled();
}

function questionControl(it: Item): HTMLElement {
  const id = qid(it);
  const v = s.answers[it.linkId];
  const req = it.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null;
  const radioGroup = (options: { value: string; label: string; checked: boolean }[], parse: (x: string) => Answer) =>
    h(
      "fieldset",
      { class: "radios", id: "fs-" + it.linkId },
      h("legend", null, itemText(it), req),
      options.map((o, i) =>
        h(
          "div",
          { class: "check" },
          h("input", {
            type: "radio",
            name: it.linkId,
            id: i === 0 ? id : id + "-" + i,
            value: o.value,
            checked: o.checked,
            required: it.required,
            ...(i === 0 ? invalid(id) : {}),
            onchange: () => setAnswer(it, parse(o.value)),
          }),
          h("label", { for: i === 0 ? id : id + "-" + i }, o.label),
        ),
      ),
      fieldError(id),
    );
  switch (it.type) {
    case "display":
      return h("p", { class: "display" }, itemText(it));
    case "boolean":
      return radioGroup(
        [
          { value: "true", label: t("yes"), checked: v === true },
          { value: "false", label: t("no"), checked: v === false },
        ],
        (x) => x === "true",
      );
    case "choice":
      return radioGroup(
        (it.answerOption || []).map((o) => {
          const code = o.valueCoding ? o.valueCoding.code : o.valueString || "";
          return { value: code, label: optionText(o), checked: v === code };
        }),
        (x) => x,
      );
    case "attachment":
      return photoControl(it);
  }
  const label = h("label", { for: id }, itemText(it), req);
  const common = { id, required: it.required, ...invalid(id) };
  let input: HTMLElement;
  if (it.type === "text") {
    input = h("textarea", { ...common, rows: 3, maxlength: 4000, oninput: (e: Event) => setAnswer(it, (e.target as HTMLTextAreaElement).value) });
    (input as HTMLTextAreaElement).value = typeof v === "string" ? v : "";
  } else if (it.type === "integer" || it.type === "decimal") {
    input = h("input", {
      ...common,
      type: "text",
      inputmode: it.type === "integer" ? "numeric" : "decimal",
      value: typeof v === "number" ? String(v) : "",
      oninput: (e: Event) => {
        const raw = (e.target as HTMLInputElement).value.trim().replace(",", ".");
        const n = it.type === "integer" ? parseInt(raw, 10) : parseFloat(raw);
        setAnswer(it, raw === "" || !isFinite(n) ? undefined : n);
      },
    });
  } else {
    input = h("input", {
      ...common,
      type: it.type === "date" ? "date" : "text",
      maxlength: it.type === "date" ? undefined : 200,
      value: typeof v === "string" ? v : "",
      oninput: (e: Event) => setAnswer(it, (e.target as HTMLInputElement).value),
    });
  }
  return h("div", { class: "field" }, label, input, fieldError(id));
}

function photoControl(it: Item): HTMLElement {
  const id = qid(it);
  const have = (s.answers[it.linkId] as string[] | undefined) || [];
  const status = h("p", { class: "hint", id: id + "-status", "aria-live": "polite" }, have.length ? t("photoUploaded", { n: have.length }) : "");
  const input = h("input", {
    id,
    type: "file",
    accept: PHOTO_TYPES.join(",") + ",.heic",
    multiple: true,
    "aria-describedby": (photosRequired() ? id + "-req " : "") + id + "-hint" + (stepErrors[id] ? " " + id + "-err" : ""),
    "aria-required": it.required ? "true" : undefined,
    "aria-invalid": stepErrors[id] ? "true" : undefined,
    onchange: async (e: Event) => {
      const el = e.target as HTMLInputElement;
      const files = Array.from(el.files || []);
      const err = document.getElementById(id + "-err");
      if (err) err.remove();
      for (const f of files) {
        const type = f.type || (/\.heic$/i.test(f.name) ? "image/heic" : "");
        const problem = PHOTO_TYPES.indexOf(type) < 0 ? t("photoType") : f.size > PHOTO_MAX || f.size === 0 ? t("photoSize") : "";
        if (problem) {
          status.textContent = problem;
          status.className = "error";
          continue;
        }
        status.className = "hint";
        status.textContent = t("photoUploading");
        try {
          const r = await api<{ attachment_id: string; upload_url: string; method: string; headers: Record<string, string> }>(
            "POST",
            "/v1/exams/" + s.examId + "/attachments",
            { kind: "photo", content_type: type, size: f.size },
            randomKey(),
          );
          const put = await fetch(r.upload_url, { method: r.method || "PUT", headers: r.headers, body: f, credentials: "omit" });
          if (!put.ok) throw new Error("upload " + put.status);
          const list = ((s.answers[it.linkId] as string[] | undefined) || []).concat(r.attachment_id);
          setAnswer(it, list);
          status.textContent = t("photoUploaded", { n: list.length });
        } catch (e) {
          status.className = "error";
          status.textContent = e instanceof HttpError ? e.err.message : t("photoFailed");
        }
      }
      el.value = "";
      reportHeight();
    },
  });
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, itemText(it), it.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    photosRequired() ? h("p", { class: "hint need", id: id + "-req" }, t(it.forAsync ? "photoAsyncHint" : "photoRequiredHint")) : null,
    h("p", { class: "hint", id: id + "-hint" }, t("photoHint")),
    input,
    status,
    fieldError(id),
  );
}

function viewQuestions() {
  const items = mergedItems();
  return section(
    "questionsTitle",
    "questionsHint",
    form(
      async () => {
        const errs: Errors = {};
        for (const it of items) if (it.required && enabled(it) && it.type !== "display" && missing(it)) errs[qid(it)] = t(it.type === "attachment" ? "photoRequired" : "required");
        if (Object.keys(errs).length) return go("questions", errs);
        if (await saveIntake(intakeAnswers(), "questions")) go("consent");
      },
      items.map((it) => {
        const w = h("div", { id: "w-" + it.linkId, class: "q" }, questionControl(it));
        w.hidden = !enabled(it);
        return w;
      }),
      nav(() => {}, "next", "identity"),
    ),
  );
}

// Only answers to questions that are asked (enableWhen) are sent.
function currentAnswers(): Record<string, Answer> {
  const out: Record<string, Answer> = {};
  for (const it of mergedItems()) {
    const v = s.answers[it.linkId];
    if (v !== undefined && enabled(it) && it.type !== "display") out[it.linkId] = v;
  }
  return out;
}

// intakeAnswers is the questions step's intake: the answers, and the photos
// of the widget's own photo question as the exam's attachments.
function intakeAnswers(): { answers: Record<string, Answer>; attachments?: string[] } {
  const answers = currentAnswers();
  const extra = answers[EXTRA_PHOTOS];
  delete answers[EXTRA_PHOTOS];
  return Array.isArray(extra) ? { answers, attachments: extra } : { answers };
}

async function saveIntake(body: object, step: Step): Promise<boolean> {
  try {
    exam = (await api<{ exam: Exam }>("PUT", "/v1/exams/" + s.examId + "/intake", body)).exam;
    return true;
  } catch (e) {
    showServerError(e as HttpError, step);
    return false;
  }
}

function showServerError(e: HttpError, fallback: Step) {
  const err = e.err;
  const f = err.field || "";
  if (err.code === "already_submitted") return go("status");
  if (f.startsWith("answers.")) return go("questions", { ["q-" + f.slice(8)]: err.message });
  if (f === "attachments" || err.code === "photo_required") {
    const photo = mergedItems().find((it) => it.type === "attachment");
    if (photo) return go("questions", { [qid(photo)]: err.code === "photo_required" ? t("photoRequired") : err.message });
  }
  if (f === "consents.telehealth") return go("consent", { "c-telehealth": t("consentNeeded") });
  if (f === "consents.privacy") return go("consent", { "c-privacy": t("consentNeeded") });
  if (f === "modality") return go("modality", { "m-0": err.message });
  go(fallback, {}, err.message);
}

// ---------- step 4: consent and privacy ----------

function viewConsent() {
  const box = (k: "telehealth" | "privacy", text: string, label: Key) =>
    h(
      "div",
      { class: "consent" },
      h("p", null, text),
      h(
        "div",
        { class: "check" },
        h("input", {
          type: "checkbox",
          id: "c-" + k,
          checked: s.consents[k],
          ...invalid("c-" + k),
          onchange: (e: Event) => {
            s.consents[k] = (e.target as HTMLInputElement).checked;
            save();
          },
        }),
        h("label", { for: "c-" + k }, t(label)),
      ),
      fieldError("c-" + k),
    );
  return section(
    "consentTitle",
    null,
    form(
      async () => {
        const errs: Errors = {};
        if (!s.consents.telehealth) errs["c-telehealth"] = t("consentNeeded");
        if (!s.consents.privacy) errs["c-privacy"] = t("consentNeeded");
        if (Object.keys(errs).length) return go("consent", errs);
        if (await saveIntake({ consents: s.consents }, "consent")) go("modality");
      },
      box("telehealth", t("consentTelehealthText"), "consentTelehealth"),
      box("privacy", t("privacyText", { clinic: cfg.clinic.name }), "consentPrivacy"),
      nav(() => {}, "next", "questions"),
    ),
  );
}

// ---------- step 5: modality ----------

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

// clinicOpen reports whether now falls in the clinic's weekly hours (in its
// timezone); a clinic without hours is always open.
export function clinicOpen(hours: Config["hours"], now = new Date()): boolean {
  const weekly = hours.weekly || {};
  if (!Object.keys(weekly).length) return true;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", { timeZone: hours.timezone || "UTC", weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(now);
  } catch {
    return false;
  }
  const get = (type: string) => (parts.find((p) => p.type === type) || { value: "" }).value;
  const day = DAYS[["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"))];
  const span = weekly[day];
  if (!span || span.length < 2) return false;
  const hm = get("hour").padStart(2, "0") + ":" + get("minute").padStart(2, "0");
  return hm >= span[0] && hm < span[1];
}

function viewModality() {
  const allowed = s.allowed || (exam ? exam.modalities_allowed : ["async"]);
  const open = clinicOpen(cfg.hours);
  const options = [
    { value: "async", label: t("async"), note: allowed.indexOf("async") >= 0 ? t("asyncWait", { wait: open ? t("waitOpen") : t("waitClosed") }) : t("videoNotAllowed"), ok: allowed.indexOf("async") >= 0 },
    { value: "video", label: t("video"), note: allowed.indexOf("video") < 0 ? t("videoNotAllowed") : open ? "" : t("videoClosed"), ok: allowed.indexOf("video") >= 0 && open },
  ];
  if (!s.modality || !options.some((o) => o.ok && o.value === s.modality)) s.modality = (options.find((o) => o.ok) || { value: "" }).value;
  return section(
    "modalityTitle",
    null,
    form(
      async () => {
        if (!s.modality) return go("modality", { "m-0": t("required") });
        if (photosRequired() && !photoCount()) {
          const photo = mergedItems().find((it) => it.type === "attachment");
          if (photo) return go("questions", { [qid(photo)]: t("photoRequired") });
        }
        if (await saveIntake({ modality: s.modality }, "modality")) go("review");
      },
      h(
        "fieldset",
        { class: "radios" },
        h("legend", { class: "sr-only" }, t("modalityTitle")),
        options.map((o, i) =>
          h(
            "div",
            { class: "check option" + (o.ok ? "" : " off") },
            h("input", {
              type: "radio",
              name: "modality",
              id: "m-" + i,
              value: o.value,
              checked: s.modality === o.value,
              disabled: !o.ok,
              "aria-describedby": o.note ? "m-" + i + "-note" : undefined,
              onchange: () => {
                s.modality = o.value;
                save();
              },
            }),
            h("label", { for: "m-" + i }, o.label),
            o.note ? h("p", { class: "hint", id: "m-" + i + "-note" }, o.note) : null,
          ),
        ),
        fieldError("m-0"),
      ),
      nav(() => {}, "next", "consent"),
    ),
  );
}

// ---------- step 6: review ----------

function displayAnswer(it: Item, v: Answer): string {
  if (typeof v === "boolean") return v ? t("yes") : t("no");
  if (Array.isArray(v)) return t("photoUploaded", { n: v.length });
  if (it.type === "choice") {
    const o = (it.answerOption || []).find((o) => (o.valueCoding ? o.valueCoding.code : o.valueString) === v);
    if (o) return optionText(o);
  }
  return String(v);
}

function viewReview() {
  const id = s.identity;
  const answers = currentAnswers();
  const row = (k: string, v: string, edit?: Step) =>
    h("div", { class: "row" }, h("dt", null, k), h("dd", null, v, edit ? [" ", h("button", { type: "button", class: "link", onclick: () => go(edit) }, t("edit"), h("span", { class: "sr-only" }, " " + k))] : null));
  const names = s.treatments.map((x) => treatmentName(lang, x, (cfg.treatments.find((tr) => tr.id === x) || { name: x }).name));
  const photos = photoCount();
  return section(
    "reviewTitle",
    "reviewHint",
    h("h2", null, t("you")),
    h(
      "dl",
      { class: "review", id: "review-you" },
      row(t("treatments"), names.join(", ")),
      row(t("state"), id.state),
      row(t("firstName"), id.first),
      row(t("lastName"), id.last),
      row(t("dob"), id.dob),
      row(t("email"), id.email),
      id.phone ? row(t("phone"), id.phone) : null,
    ),
    h("h2", null, t("answers")),
    h(
      "dl",
      { class: "review", id: "review-answers" },
      mergedItems()
        .filter((it) => answers[it.linkId] !== undefined && it.type !== "attachment")
        .map((it) => row(itemText(it), displayAnswer(it, answers[it.linkId]), "questions")),
      row(t("photos"), photos ? t("photoUploaded", { n: photos }) : t("none"), "questions"),
      row(t("modality"), s.modality === "video" ? t("video") : t("async"), "modality"),
    ),
    form(
      async () => {
        s.submitKey = s.submitKey || randomKey();
        save();
        const btn = document.getElementById("next") as HTMLButtonElement;
        btn.textContent = t("submitting");
        try {
          exam = (await api<{ exam: Exam }>("POST", "/v1/exams/" + s.examId + "/submit", undefined, s.submitKey)).exam;
        } catch (e) {
          s.submitKey = undefined;
          return showServerError(e as HttpError, "review");
        }
        if (!s.submittedSent) {
          s.submittedSent = true;
          post("goodfaith:submitted");
        }
        go("status");
      },
      nav(() => {}, "submit", "modality"),
    ),
  );
}

// ---------- step 7: status ----------

const TERMINAL = ["decided", "cancelled", "expired", "not_applicable"];
// LIVE: a video exam's statuses while the patient may be in the call.
const LIVE = ["queued", "claimed", "in_consult"];
let video: VideoVisit | null = null;

function videoLive(e: Exam | null): boolean {
  return !!e && e.modality === "video" && LIVE.indexOf(e.status) >= 0 && !!s.token && !!s.examId;
}

function viewStatus() {
  const e = exam;
  if (videoLive(e)) {
    // The video visit (video.ts): kept across renders, re-attached here.
    if (!video) video = new VideoVisit({ t: () => t, token: s.token as string, examId: s.examId as string, onResize: reportHeight });
    const wrap = h("div", { class: "video-wrap" });
    video.mount(wrap);
    queuePoll();
    return wrap;
  }
  if (video) {
    video.stop();
    video = null;
  }
  const live = h("div", { id: "status", role: "status", "aria-live": "polite" });
  if (e) {
    if (e.status === "decided" && e.outcome) {
      live.append(h("p", { class: "outcome " + e.outcome, id: "outcome" }, t(("outcome_" + e.outcome) as Key)));
      if (e.reason && e.outcome !== "approved") live.append(h("p", null, t("reason")), h("blockquote", { id: "reason" }, e.reason));
      if (e.pso && e.pso.valid_until) live.append(h("p", null, t("validUntil", { date: e.pso.valid_until.slice(0, 10) })));
    } else {
      live.append(h("p", { id: "state" }, t(("status_" + e.status) as Key)));
    }
  } else {
    live.append(h("p", null, t("loading")));
  }
  const done = e && TERMINAL.indexOf(e.status) >= 0;
  const name = (e && e.patient && e.patient.first_name) || s.identity.first;
  const view = h(
    "section",
    null,
    h("h1", { tabindex: "-1" }, t("statusTitle")),
    name ? h("p", { id: "thanks" }, t("thanks", { name })) : null,
    live,
    done
      ? INVITE_EXAM
        ? null
        : h("p", null, h("button", { type: "button", class: "secondary", onclick: () => ((s = fresh()), (exam = null), go("treatments")) }, t("newExam")))
      : h("p", { class: "hint" }, t("updating")),
  );
  if (e && e.status === "decided" && !s.decidedSent) {
    s.decidedSent = true;
    save();
    post("goodfaith:decided");
  }
  if (!done) queuePoll();
  return view;
}

function queuePoll() {
  pollTimer = window.setTimeout(async () => {
    const before = exam ? exam.status + "/" + (exam.outcome || "") : "";
    try {
      exam = (await api<{ exam: Exam }>("GET", "/v1/exams/" + s.examId)).exam;
    } catch {
      /* transient: try again on the next tick */
    }
    if (s.step !== "status") return;
    const after = exam ? exam.status + "/" + (exam.outcome || "") : "";
    if (after !== before && video && videoLive(exam)) {
      // queued → claimed → in consult: the call goes on undisturbed.
      queuePoll();
    } else if (after !== before) {
      const focused = document.activeElement;
      render();
      if (focused && focused !== document.body && !focused.isConnected) (app.querySelector("h1") as HTMLElement).focus();
    } else queuePoll();
  }, exam ? POLL_MS : 0);
}

// ---------- start ----------

// takeInviteToken reads the patient token of an invite link from the URL's
// fragment (never sent to any server) and removes it from the address bar
// and history at once, so it is neither bookmarked nor shared by copying.
function takeInviteToken(): string {
  const frag = new URLSearchParams(location.hash.slice(1));
  const tok = frag.get("patient_token") || "";
  if (tok) history.replaceState(history.state, "", location.pathname + location.search);
  return tok;
}

function fail(key: Key) {
  clear(app);
  app.append(h("p", { role: "alert", id: "load-error" }, translator(pickLang(params.get("lang"), ["en", "es"]))(key)));
  if (key === "loadFailed") app.append(h("button", { type: "button", onclick: () => location.reload() }, "↻"));
  reportHeight();
}

// resumeInvite continues the clinic's pre-filled draft: its treatments and
// the patient's details come from the exam, the patient starts at the
// questionnaire (or the status page once submitted).
async function resumeInvite(): Promise<boolean> {
  try {
    exam = (await api<{ exam: Exam }>("GET", "/v1/exams/" + INVITE_EXAM)).exam;
  } catch (e) {
    const st = (e as HttpError).status;
    if (st === 401 || st === 403 || st === 404) {
      try {
        sessionStorage.removeItem(STORE_KEY);
      } catch {
        /* nothing kept */
      }
      fail("inviteFailed");
    } else fail("loadFailed");
    return false;
  }
  const e = exam;
  if (!s.treatments.length) {
    const p = e.patient || { first_name: "" };
    const first = p.first_name || "", last = p.last_name || "", dob = p.dob || "";
    s.treatments = e.treatments || [];
    s.identity = { state: e.state || p.state || "", first, last, confirmName: (first + " " + last).trim(), dob, confirmDob: dob, email: p.email || "", phone: p.phone || "" };
    s.answers = { ...(e.answers || {}) };
    if (e.consents) s.consents = { telehealth: !!e.consents.telehealth, privacy: !!e.consents.privacy };
    s.step = "questions";
  }
  s.allowed = e.modalities_allowed;
  if (!s.modality) s.modality = e.modality;
  if (e.status !== "draft") s.step = "status";
  save();
  return true;
}

async function start() {
  let inviteToken = "";
  if (INVITE_EXAM) {
    inviteToken = takeInviteToken();
    const back = restore();
    if (back && back.examId === INVITE_EXAM && back.token && (!inviteToken || back.token === inviteToken)) s = back;
    else if (inviteToken) s = { ...fresh(), examId: INVITE_EXAM, token: inviteToken };
    else return fail("inviteFailed");
  } else if (!KEY) {
    app.textContent = "Missing data-key.";
    return;
  }
  try {
    cfg = await api<Config>("GET", "/v1/widget/config");
  } catch (e) {
    return fail(INVITE_EXAM && (e as HttpError).status === 401 ? "inviteFailed" : "loadFailed");
  }
  document.documentElement.style.setProperty("--brand", guardBrand(cfg.clinic.branding.primary_color));
  setLang(pickLang(params.get("lang"), cfg.languages));
  if (INVITE_EXAM) {
    if (!(await resumeInvite())) return;
  } else {
    const back = restore();
    if (back) s = back;
  }
  if (s.examId && s.step === "status") exam = null;
  render();
  post("goodfaith:ready");
  if (params.get("dialog")) {
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") post("goodfaith:close");
    });
  }
  if ("ResizeObserver" in window) new ResizeObserver(reportHeight).observe(document.body);
}

start();
