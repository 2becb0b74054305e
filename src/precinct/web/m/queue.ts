// The offline queue: every action is stored (localStorage) with its own Idempotency-Key before it is
// sent, and sent strictly in order. A retry re-sends the same key, so the server applies it once even
// when an answer was lost on the way back.

export interface Action {
  key: string;
  path: string;
  body: Record<string, unknown>;
  label: string;
  queuedAt: string;
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
    try {
      r = await fetch(`/api/v1${head.path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`, "Idempotency-Key": head.key },
        body: JSON.stringify(head.body),
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
    done.push({ action: head, ok: r.ok, status: r.status, detail });
  }
}
