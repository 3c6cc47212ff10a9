// What both consoles share: the shell (header, status line, sign-in and
// lock screens) and the idle lock.
import { h, clear } from "../frame/dom";

export { h, clear };

export function fmtDate(s?: string | null): string {
  if (!s) return "—";
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export function announce(msg: string) {
  const s = document.getElementById("status");
  if (s) s.textContent = msg;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// idleLock calls lock after seconds without input. The page may ask for a
// shorter time with ?idle=N (never longer than the configured one).
export function idleLock(configured: number, lock: () => void): () => void {
  const asked = Number(new URLSearchParams(location.search).get("idle"));
  const seconds = asked > 0 && asked < configured ? asked : configured;
  let timer = 0;
  const reset = () => {
    clearTimeout(timer);
    timer = window.setTimeout(lock, seconds * 1000);
  };
  const evs = ["pointerdown", "keydown", "wheel", "touchstart"];
  evs.forEach((e) => document.addEventListener(e, reset, { passive: true }));
  reset();
  return () => {
    clearTimeout(timer);
    evs.forEach((e) => document.removeEventListener(e, reset));
  };
}

export function signInScreen(root: HTMLElement, title: string, message: string | null, onSignIn: () => void, extra?: Node) {
  clear(root);
  root.append(
    h("section", { class: "signin" },
      h("h1", null, title),
      message ? h("p", { class: "error", role: "alert" }, message) : null,
      h("p", null, "Sign in with your organisation's account. Your session stays in this tab only and locks when idle."),
      h("button", { type: "button", id: "signin", class: "primary", onclick: onSignIn }, "Sign in"),
      extra || null,
    ),
  );
}
