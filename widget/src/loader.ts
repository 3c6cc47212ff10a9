// The Goodfaith loader: the one script tag a clinic pastes into its site.
//
//   <script src="https://…/widget/goodfaith.js" data-key="pk_…" async></script>
//
// Attributes: data-key (required), data-mode="inline"|"button" (default
// inline), data-target="#css-selector" (where the inline frame goes;
// default right after the script tag), data-lang="en"|"es", data-label
// (the button's text). window.Goodfaith.open() opens the widget as a dialog.
//
// Everything the patient types lives in an iframe served from our origin:
// this script never sees it, and it injects no inline script or style
// (only CSSOM properties, which a strict Content-Security-Policy allows).
// Events reach the host page as window CustomEvents named goodfaith:ready,
// goodfaith:submitted, goodfaith:decided (and goodfaith:close), with no
// patient data in them.

interface GoodfaithAPI {
  open(): void;
  close(): void;
  on(type: string, fn: (detail: object) => void): void;
}

declare global {
  interface Window {
    Goodfaith?: GoodfaithAPI;
  }
}

const EVENTS = ["goodfaith:ready", "goodfaith:submitted", "goodfaith:decided", "goodfaith:close"];

(function () {
  const script = (document.currentScript ||
    document.querySelector('script[data-key][src*="goodfaith.js"]')) as HTMLScriptElement | null;
  if (!script || window.Goodfaith) return;
  const key = script.dataset.key || "";
  const src = new URL(script.src, location.href);
  const origin = src.origin;
  const mode = script.dataset.mode === "button" ? "button" : "inline";
  const lang = script.dataset.lang || "";
  const doc = document;

  function frameURL(inDialog: boolean): string {
    const u = new URL("frame.html", src);
    u.searchParams.set("key", key);
    u.searchParams.set("origin", location.origin);
    if (lang) u.searchParams.set("lang", lang);
    if (inDialog) u.searchParams.set("dialog", "1");
    return u.href;
  }

  function makeFrame(inDialog: boolean): HTMLIFrameElement {
    const f = doc.createElement("iframe");
    f.src = frameURL(inDialog);
    f.title = script!.dataset.title || "Good-faith exam";
    f.setAttribute("allow", "camera; microphone");
    f.setAttribute("referrerpolicy", "no-referrer");
    const s = f.style;
    s.border = "0";
    s.width = "100%";
    s.maxWidth = "100%";
    s.height = "480px";
    s.display = "block";
    s.colorScheme = "normal";
    return f;
  }

  const frames: HTMLIFrameElement[] = [];
  let dialog: HTMLDivElement | null = null;
  let opener: Element | null = null;
  const handlers: Record<string, ((d: object) => void)[]> = {};

  function emit(type: string) {
    const detail = {};
    window.dispatchEvent(new CustomEvent(type, { detail }));
    (handlers[type] || []).forEach((fn) => fn(detail));
  }

  window.addEventListener("message", (ev: MessageEvent) => {
    if (ev.origin !== origin) return;
    const frame = frames.find((f) => f.contentWindow === ev.source);
    const data = ev.data;
    if (!frame || !data || typeof data.type !== "string") return;
    if (data.type === "goodfaith:resize") {
      const h = Number(data.height);
      if (h > 0 && h < 20000) frame.style.height = Math.ceil(h) + "px";
      return;
    }
    if (data.type === "goodfaith:close") close();
    if (EVENTS.indexOf(data.type) >= 0) emit(data.type);
  });

  function close() {
    if (!dialog) return;
    const i = frames.indexOf(dialog.querySelector("iframe") as HTMLIFrameElement);
    if (i >= 0) frames.splice(i, 1);
    dialog.remove();
    dialog = null;
    doc.removeEventListener("keydown", onKey);
    if (opener instanceof HTMLElement) opener.focus();
  }

  function onKey(e: KeyboardEvent) {
    if (e.key === "Escape") close();
  }

  function open() {
    if (dialog) return;
    opener = doc.activeElement;
    const d = doc.createElement("div");
    d.setAttribute("role", "dialog");
    d.setAttribute("aria-modal", "true");
    d.setAttribute("aria-label", script!.dataset.title || "Good-faith exam");
    let s = d.style;
    s.position = "fixed";
    s.inset = "0";
    s.zIndex = "2147483647";
    s.background = "rgba(0,0,0,.6)";
    s.overflow = "auto";
    s.padding = "16px 8px";
    s.boxSizing = "border-box";
    const box = doc.createElement("div");
    s = box.style;
    s.maxWidth = "640px";
    s.margin = "0 auto";
    s.background = "#fff";
    s.borderRadius = "8px";
    s.position = "relative";
    const x = doc.createElement("button");
    x.type = "button";
    x.textContent = "×";
    x.setAttribute("aria-label", "Close");
    s = x.style;
    s.position = "absolute";
    s.top = "4px";
    s.right = "4px";
    s.font = "24px/1 sans-serif";
    s.padding = "8px 12px";
    s.background = "#fff";
    s.color = "#222";
    s.border = "0";
    s.cursor = "pointer";
    x.addEventListener("click", close);
    const f = makeFrame(true);
    frames.push(f);
    box.append(x, f);
    d.append(box);
    d.addEventListener("click", (e) => {
      if (e.target === d) close();
    });
    doc.body.append(d);
    dialog = d;
    doc.addEventListener("keydown", onKey);
    f.addEventListener("load", () => f.focus());
  }

  window.Goodfaith = {
    open,
    close,
    on(type, fn) {
      (handlers[type] = handlers[type] || []).push(fn);
    },
  };

  if (!key) {
    console.error("goodfaith.js: data-key is missing");
    return;
  }

  function place(el: Element) {
    const target = script!.dataset.target ? doc.querySelector(script!.dataset.target) : null;
    if (target) target.append(el);
    else if (script!.parentElement && script!.parentElement !== doc.head) script!.after(el);
    else doc.body.append(el);
  }

  function mount() {
    if (mode === "button") {
      const b = doc.createElement("button");
      b.type = "button";
      b.className = "goodfaith-button";
      b.textContent = script!.dataset.label || "Start your good-faith exam";
      b.addEventListener("click", open);
      place(b);
      return;
    }
    const f = makeFrame(false);
    frames.push(f);
    place(f);
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", mount);
  else mount();
})();

export {};
