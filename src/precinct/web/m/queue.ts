// The offline queue: every action is stored (localStorage) with its own Idempotency-Key before it is
// sent, and sent strictly in order. A retry re-sends the same key, so the server applies it once even
// when an answer was lost on the way back.

export interface Action {
  key: string;
  path: string;
  body: Record<string, unknown>;
  label: string;
  queuedAt: string;
  /** A photo: its bytes wait in IndexedDB under the action's key and are sent raw with this type. */
  blob?: { type: string };
}

export interface Outcome {
  action: Action;
  ok: boolean;
  status: number;
  detail: string;
}

const STORE = "precinct.m.queue";

export function pending(): Action[] {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? "[]") as Action[];
  } catch {
    return [];
  }
}

function save(items: Action[]): void {
  localStorage.setItem(STORE, JSON.stringify(items));
}

export function enqueue(path: string, body: Record<string, unknown>, label: string): Action {
  const action = { key: crypto.randomUUID(), path, body, label, queuedAt: new Date().toISOString() };
  save([...pending(), action]);
  return action;
}

// Photos are too big for localStorage: their bytes wait in IndexedDB (which works offline too).
function idb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("precinct-m", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("blobs");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function blobOp<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await idb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(db.transaction("blobs", mode).objectStore("blobs"));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

/** Queue a photo (sent raw, in order with the other actions, with its own Idempotency-Key). */
export async function enqueueBlob(path: string, blob: Blob, label: string): Promise<Action> {
  const key = crypto.randomUUID();
  await blobOp("readwrite", (s) => s.put(blob, key));
  const action: Action = { key, path, body: {}, label, queuedAt: new Date().toISOString(), blob: { type: blob.type || "image/jpeg" } };
  save([...pending(), action]);
  return action;
}

let running: Promise<Outcome[]> | null = null;

/** Send what is waiting, oldest first; stop at the first network failure (it stays queued). */
export function flush(token: string): Promise<Outcome[]> {
  running ??= drain(token).finally(() => {
    running = null;
  });
  return running;
}

async function drain(token: string): Promise<Outcome[]> {
  const done: Outcome[] = [];
  for (;;) {
    const head = pending()[0];
    if (!head) return done;
    let r: Response;
    let body: BodyInit = JSON.stringify(head.body);
    let type = "application/json";
    if (head.blob) {
      const photo = await blobOp<Blob | undefined>("readonly", (s) => s.get(head.key)).catch(() => undefined);
      if (!photo) { // the browser dropped it: say so rather than block the queue
        save(pending().filter((a) => a.key !== head.key));
        done.push({ action: head, ok: false, status: 0, detail: "photo lost on this device" });
        continue;
      }
      body = photo;
      type = head.blob.type;
    }
    try {
      r = await fetch(`/api/v1${head.path}`, {
        method: "POST",
        headers: { "Content-Type": type, Authorization: `Bearer ${token}`, "Idempotency-Key": head.key },
        body,
      });
    } catch {
      return done; // offline: keep it, try again later
    }
    if (r.status === 401 || r.status === 429 || r.status >= 500) return done; // retry later, same key
    let detail = "";
    if (!r.ok) {
      try {
        const j = (await r.json()) as { detail?: unknown; message?: unknown };
        detail = String(j.message ?? j.detail ?? r.statusText);
      } catch {
        detail = r.statusText;
      }
    }
    save(pending().filter((a) => a.key !== head.key));
    if (head.blob) await blobOp("readwrite", (s) => s.delete(head.key)).catch(() => undefined);
    done.push({ action: head, ok: r.ok, status: r.status, detail });
  }
}
