// Calls to the Goodfaith API with the bearer credential held in memory.

export class APIError extends Error {
  constructor(public status: number, public code: string, message: string, public field?: string) {
    super(message);
  }
}

export class API {
  constructor(private base: string, private credential: () => string | null, private onUnauthorized: () => void) {}

  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const cred = this.credential();
    if (!cred) throw new APIError(401, "locked", "Signed out.");
    const h: Record<string, string> = { Authorization: "Bearer " + cred, ...headers };
    if (body !== undefined) h["content-type"] = "application/json";
    const r = await fetch(this.base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 401) this.onUnauthorized();
    if (!r.ok) {
      let e: { code?: string; message?: string; field?: string } = {};
      try {
        e = (await r.json()).error || {};
      } catch {
        /* not JSON */
      }
      throw new APIError(r.status, e.code || "http_" + r.status, e.message || "Request failed (" + r.status + ").", e.field);
    }
    return r;
  }

  async json<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return (await this.raw(method, path, body, headers)).json();
  }

  // download fetches a file with the credential and saves it under name.
  async download(path: string, name: string): Promise<Blob> {
    const blob = await (await this.raw("GET", path)).blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    return blob;
  }
}

export function idemKey(): string {
  return "ui-" + crypto.getRandomValues(new Uint32Array(4)).join("-");
}
