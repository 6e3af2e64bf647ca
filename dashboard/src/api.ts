// The admin API, over fetch. Every change sends the session's CSRF token; any error comes
// back as an ApiError carrying the hub's own message.

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

let csrfToken = "";

export function setCsrfToken(token: string) {
  csrfToken = token;
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  const method = (rest.method ?? "GET").toUpperCase();
  if (method !== "GET") headers.set("X-CSRF-Token", csrfToken);
  if (json !== undefined) headers.set("Content-Type", "application/json");
  const response = await fetch(path, {
    ...rest,
    headers,
    credentials: "same-origin",
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
  if (response.status === 204) return undefined as T;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, body.error ?? `${response.status} ${response.statusText}`, body);
  }
  return body as T;
}

export interface User {
  id: string;
  email: string;
  role: "admin" | "viewer";
}

export interface Citation {
  title: string;
  location: string;
  snippet: string;
}

export interface Reply {
  text: string;
  citations: Citation[];
  code: { code: string; language: string }[];
  metadata: Record<string, unknown>;
  is_error: boolean;
}

export interface Step {
  node: string;
  ms: number;
}

export interface TaskSummary {
  id: string;
  platform: string;
  workspace: string;
  channel: string | null;
  user_id: string | null;
  kind: string;
  status: string;
  text: string;
  attempts: number;
  error: string | null;
  received_at: string;
  seconds: number | null;
  cost_usd: number | null;
}

export interface Task {
  id: string;
  status: string;
  kind: string;
  text: string;
  platform: string;
  workspace: string;
  trace_id: string;
  attempts: number;
  error: string | null;
  reply: Reply | null;
  times: Record<string, string | null>;
  steps: Step[];
  tokens: { prompt: number; completion: number };
  cost_usd: number | null;
}

/** An answer people voted on, as the feedback review lists it. */
export interface FeedbackItem {
  task_id: string;
  platform: string;
  workspace: string;
  channel: string;
  kind: string;
  status: string;
  question: string;
  answer: string | null;
  up: number;
  down: number;
  last_vote_at: string;
  reviewed_at: string | null;
}

/** A question someone pressed "Ask a person" on, not resolved yet (GET /api/escalations). */
export interface Escalation {
  id: string;
  platform: string;
  channel: string | null;
  text: string;
  user_id: string | null;
  workspace: string;
  escalated_at: string;
  escalated_by: string;
  waiting_seconds: number;
}

export interface Job {
  id: string;
  status: string;
  progress: { files_total: number; files_done: number; chunks: number; current: string } | null;
  result: { summary: string } | null;
  error: string | null;
}

/** Statuses no worker changes by itself, so nobody need follow the task any longer: its outcome
 * is recorded (the hub's FINISHED: posted, failed, skipped, withheld), or its answer is drafted
 * and waits for a person to publish or dismiss it. */
export const FINISHED = ["posted", "failed", "skipped", "withheld", "drafted"];

/** Poll `read` every `ms` until `done` says so; returns the last value. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, onUpdate?: (value: T) => void,
                              ms = 500, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    onUpdate?.(value);
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

export interface LiveHandlers {
  /** The task's status changed ("queued", "running", …). */
  onTask?: (status: string) => void;
  /** What the agent is doing now ("Searching your docs…"). */
  onStatus?: (text: string) => void;
  /** More of the answer's text, as the model writes it. */
  onText?: (piece: string) => void;
}

/** Follow a task's live events (GET /api/tasks/<id>/events, Server-Sent Events) until it is
 * finished or drafted. Rejects when live events are not to be had (no EventSource, or the server
 * refused the stream), so the caller can poll instead, or when `signal` aborts. */
export function follow(taskId: string, handlers: LiveHandlers, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (typeof EventSource === "undefined") {
      reject(new Error("this browser has no EventSource"));
      return;
    }
    const source = new EventSource(`/api/tasks/${taskId}/events`);
    signal?.addEventListener("abort", () => {
      source.close(); // the page went away
      reject(signal.reason);
    });
    const data = (event: Event) => JSON.parse((event as MessageEvent<string>).data);
    source.addEventListener("task", (event) => {
      const { status } = data(event);
      handlers.onTask?.(status);
      if (status === "drafted") {
        // The hub ends the stream with a `reply` only once the task is finished; a draft waits
        // for a person, however long that takes.
        source.close();
        resolve();
      }
    });
    source.addEventListener("status", (event) => handlers.onStatus?.(data(event).text));
    source.addEventListener("text", (event) => handlers.onText?.(data(event).text));
    source.addEventListener("reply", () => {
      source.close(); // the server ends the stream here; without this the browser would reconnect
      resolve();
    });
    source.addEventListener("error", () => {
      // A stream that ends (every 30 s) reconnects by itself; one the server refused is closed.
      if (source.readyState === EventSource.CLOSED) reject(new Error("live events unavailable"));
    });
  });
}
