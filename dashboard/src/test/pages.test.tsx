import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, setCsrfToken } from "../api";
import { App } from "../App";
import { SessionProvider } from "../auth";
import { Faqs } from "../pages/Faqs";
import { Playground } from "../pages/Playground";
import { TaskDetail } from "../pages/TaskDetail";
import { Tasks } from "../pages/Tasks";
import { fakeApi } from "./fetch";

afterEach(() => vi.unstubAllGlobals());

const inRouter = (ui: React.ReactNode) => render(<MemoryRouter>{ui}</MemoryRouter>);

describe("api", () => {
  it("sends the CSRF token with changes only, and raises the hub's error message", async () => {
    const fetch = fakeApi({
      "GET /api/tasks": () => ({ body: { tasks: [] } }),
      "POST /api/messages": () => ({ status: 400, body: { error: "text: must not be empty" } }),
    });
    setCsrfToken("token-1");
    await api("/api/tasks");
    expect(new Headers(fetch.mock.calls[0][1]!.headers).has("X-CSRF-Token")).toBe(false);
    const failure = api("/api/messages", { method: "POST", json: { text: " " } });
    await expect(failure).rejects.toEqual(new ApiError(400, "text: must not be empty", { error: "text: must not be empty" }));
    expect(new Headers(fetch.mock.calls[1][1]!.headers).get("X-CSRF-Token")).toBe("token-1");
  });
});

describe("login", () => {
  it("offers the one-time setup on a hub with no accounts, then shows the dashboard", async () => {
    const fetch = fakeApi({
      "GET /api/auth/session": () => ({ status: 401, body: { error: "log in first", needs_setup: true } }),
      "POST /api/auth/setup": () => ({
        status: 201,
        body: { user: { id: "1", email: "ada@example.com", role: "admin" }, csrf_token: "t" },
      }),
      "GET /api/health": () => ({ body: { problems: [], workers: [], queues: {}, postgres: "ok", redis: "ok" } }),
      "GET /api/analytics": () => ({
        body: { totals: { tasks: 0 }, per_hour: [], top_questions: [], feedback: { bucket: "hour", series: [], up: 0, down: 0 } },
      }),
      "GET /api/queue/failed": () => ({ body: { jobs: [] } }),
    });
    inRouter(<SessionProvider><App /></SessionProvider>);
    expect(await screen.findByRole("heading", { name: "Create the first admin" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "a long passphrase");
    await userEvent.click(screen.getByRole("button", { name: "Create admin and log in" }));
    expect(await screen.findByRole("heading", { name: "Overview" })).toBeInTheDocument();
    expect(await screen.findByText("No questions in the last 24 hours")).toBeInTheDocument();
    const setup = fetch.mock.calls.find(([url]) => String(url) === "/api/auth/setup")!;
    expect(JSON.parse(String(setup[1]!.body))).toEqual({ email: "ada@example.com", password: "a long passphrase" });
  });
});

describe("tasks", () => {
  it("says what to do when there are none", async () => {
    fakeApi({ "GET /api/tasks": () => ({ body: { total: 0, tasks: [] } }) });
    inRouter(<Tasks />);
    expect(await screen.findByText("No tasks match")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Playground" })).toHaveAttribute("href", "/playground");
  });

  it("filters by the support desk's statuses too", async () => {
    const fetch = fakeApi({ "GET /api/tasks": () => ({ body: { total: 0, tasks: [] } }) });
    inRouter(<Tasks />);
    await userEvent.selectOptions(screen.getByLabelText("status"), "withheld");
    await waitFor(() => expect(fetch).toHaveBeenLastCalledWith("/api/tasks?status=withheld", expect.anything()));
    expect(screen.getByRole("option", { name: "drafted" })).toBeInTheDocument();
  });
});

describe("playground", () => {
  it("asks, waits for the answer and shows it with its sources", async () => {
    let polls = 0;
    fakeApi({
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
      "POST /api/messages": () => ({ status: 202, body: { id: "t1", status: "queued", url: "/api/tasks/t1" } }),
      "GET /api/tasks/t1": () => ({
        body: ++polls < 2
          ? { id: "t1", status: "running", text: "How do we deploy?", reply: null, steps: [] }
          : {
              id: "t1", status: "posted", text: "How do we deploy?", steps: [{ node: "route", ms: 2 }],
              reply: { text: "Run make deploy [1].", citations: [{ title: "Deploy", location: "deploy.md", snippet: "" }] },
            },
      }),
    });
    inRouter(<Playground />);
    await userEvent.type(screen.getByLabelText("Message"), "How do we deploy?");
    await userEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(screen.getByText("Run make deploy [1].")).toBeInTheDocument(), { timeout: 3000 });
    expect(screen.getByRole("list", { name: "Sources" })).toHaveTextContent("[1] Deploy — deploy.md");
    expect(screen.getByRole("link", { name: "Open task" })).toHaveAttribute("href", "/tasks/t1");
  });
});

/** The browser's EventSource, driven by the test: `emit` plays one Server-Sent Event. */
class FakeEventSource extends EventTarget {
  static readonly CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readyState = 1;
  constructor(readonly url: string) {
    super();
    FakeEventSource.opened.push(this);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(type: string, data: unknown) {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

/** Fake EventSources from now on; returns the ones the page opens. */
function liveEvents(): FakeEventSource[] {
  FakeEventSource.opened = [];
  vi.stubGlobal("EventSource", FakeEventSource);
  return FakeEventSource.opened;
}

/** Ask `question` in the playground, `task` being what GET /api/tasks/<id> answers; returns the
 * task's live events, once the page has opened them. */
async function askLive(id: string, question: string, task: object): Promise<FakeEventSource> {
  const opened = liveEvents();
  fakeApi({
    "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
    "POST /api/messages": () => ({ status: 202, body: { id, status: "queued", url: `/api/tasks/${id}` } }),
    [`GET /api/tasks/${id}`]: () => ({ body: { id, text: question, ...task } }),
  });
  inRouter(<Playground />);
  await userEvent.type(screen.getByLabelText("Message"), question);
  await userEvent.click(screen.getByRole("button", { name: "Send" }));
  await waitFor(() => expect(opened).toHaveLength(1));
  return opened[0];
}

describe("playground, live", () => {
  it("shows what the agent is doing and the answer as it is written, then the posted answer", async () => {
    const events = await askLive("t1", "How do we deploy?", {
      status: "posted", steps: [{ node: "answer", ms: 20 }],
      reply: { text: "Run make deploy [1].", citations: [{ title: "Deploy", location: "deploy.md", snippet: "" }] },
    });
    expect(events.url).toBe("/api/tasks/t1/events");

    events.emit("task", { status: "running" });
    events.emit("status", { type: "status", text: "Searching your docs…", sources: [] });
    expect(await screen.findByText("Searching your docs…")).toBeInTheDocument();
    events.emit("text", { type: "text", text: "Run make " });
    events.emit("text", { type: "text", text: "deploy" });
    await waitFor(() => expect(screen.getByLabelText("Answer so far")).toHaveTextContent("Run make deploy"));
    expect(screen.queryByRole("list", { name: "Sources" })).toBeNull(); // not posted yet

    events.emit("reply", { status: "posted" });
    await waitFor(() => expect(screen.getByRole("list", { name: "Sources" })).toHaveTextContent("[1] Deploy — deploy.md"));
    expect(screen.getByText("Run make deploy [1].")).toBeInTheDocument();
    expect(events.readyState).toBe(FakeEventSource.CLOSED); // no reconnecting once the answer is in
  });

  it("polls when the server refuses the live stream", async () => {
    const events = await askLive("t2", "hi", { status: "posted", steps: [], reply: { text: "Hello!", citations: [] } });
    events.close(); // a 503: the browser gives up and says so
    events.dispatchEvent(new Event("error"));
    expect(await screen.findByText("Hello!")).toBeInTheDocument();
  });
});

describe("task, live", () => {
  it("follows a running task until it is posted", async () => {
    const opened = liveEvents();
    let reads = 0;
    const task = { id: "t3", text: "How do we deploy?", platform: "slack", workspace: "default", kind: "ask",
      attempts: 1, trace_id: "tr", tokens: { prompt: 0, completion: 0 }, cost_usd: null, error: null, steps: [] };
    fakeApi({
      "GET /api/tasks/t3": () => ({
        body: ++reads === 1
          ? { ...task, status: "running", reply: null }
          : { ...task, status: "posted", reply: { text: "Run make deploy.", citations: [], metadata: {} } },
      }),
    });
    render(<MemoryRouter initialEntries={["/tasks/t3"]}><Routes><Route path="/tasks/:id" element={<TaskDetail />} /></Routes></MemoryRouter>);
    await waitFor(() => expect(opened).toHaveLength(1));
    const events = opened[0];
    expect(events.url).toBe("/api/tasks/t3/events");
    events.emit("status", { type: "status", text: "Writing the answer", sources: [] });
    events.emit("text", { type: "text", text: "Run make" });
    await waitFor(() => expect(screen.getByLabelText("Answer so far")).toHaveTextContent("Writing the answerRun make"));
    events.emit("reply", { status: "posted" });
    expect(await screen.findByText("Run make deploy.")).toBeInTheDocument();
    expect(events.readyState).toBe(FakeEventSource.CLOSED);
  });
});

describe("task, drafted", () => {
  const task = { id: "t5", text: "How do we deploy?", platform: "slack", workspace: "default", kind: "ask", attempts: 1,
    trace_id: "tr", tokens: { prompt: 0, completion: 0 }, cost_usd: null, error: null, steps: [] };
  const draft = { ...task, status: "drafted", reply: { text: "Run make deploy.", citations: [], metadata: {} } };
  const open = () =>
    render(<MemoryRouter initialEntries={["/tasks/t5"]}><Routes><Route path="/tasks/:id" element={<TaskDetail />} /></Routes></MemoryRouter>);

  it("shows a drafted answer without following the task: it waits for a person", async () => {
    const opened = liveEvents();
    fakeApi({ "GET /api/tasks/t5": () => ({ body: draft }) });
    open();
    expect(await screen.findByText("Run make deploy.")).toBeInTheDocument();
    expect(screen.getByText("drafted")).toBeInTheDocument();
    expect(opened).toHaveLength(0);
  });

  it("stops following a running task once its answer is drafted", async () => {
    const opened = liveEvents();
    let reads = 0;
    fakeApi({ "GET /api/tasks/t5": () => ({ body: ++reads === 1 ? { ...task, status: "running", reply: null } : draft }) });
    open();
    await waitFor(() => expect(opened).toHaveLength(1));
    opened[0].emit("task", { status: "drafted" }); // the hub sends no `reply` for a draft
    expect(await screen.findByText("Run make deploy.")).toBeInTheDocument();
    expect(opened[0].readyState).toBe(FakeEventSource.CLOSED);
  });
});

describe("task, confidence", () => {
  const task = { id: "t4", text: "Can RQ use Kafka?", platform: "web", workspace: "default", kind: "ask",
    status: "posted", attempts: 1, trace_id: "tr", tokens: { prompt: 0, completion: 0 }, cost_usd: null,
    error: null, steps: [] };
  const show = (metadata: Record<string, unknown>) => {
    fakeApi({ "GET /api/tasks/t4": () => ({ body: { ...task, reply: { text: "Reply.", citations: [], metadata } } }) });
    render(<MemoryRouter initialEntries={["/tasks/t4"]}><Routes><Route path="/tasks/:id" element={<TaskDetail />} /></Routes></MemoryRouter>);
  };

  it("shows an unsure answer's confidence against its threshold", async () => {
    show({ confidence: 0.1234, threshold: 0.37, abstained: true });
    expect(await screen.findByText("not sure")).toBeInTheDocument();
    expect(screen.getByText("0.12", { exact: false })).toBeInTheDocument();
    expect(screen.getByText("answers at ≥ 0.37")).toBeInTheDocument();
  });

  it("shows a confident answer as answered", async () => {
    show({ confidence: 0.61, threshold: 0.37, abstained: false });
    expect(await screen.findByText("answered")).toBeInTheDocument();
    expect(screen.queryByText("not sure")).not.toBeInTheDocument();
  });

  it("shows a served FAQ's similarity without a threshold", async () => {
    show({ confidence: 0.93, abstained: false });
    expect(await screen.findByText("0.93")).toBeInTheDocument();
    expect(screen.queryByText("answered")).not.toBeInTheDocument();
  });
});

describe("FAQs", () => {
  it("offers the approved FAQs of the chosen workspace as a Markdown download", async () => {
    fakeApi({
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default", embedder: "hash" }] } }),
      "GET /api/faqs": () => ({ body: { faqs: [] } }),
    });
    inRouter(<Faqs />);
    const link = await screen.findByRole("link", { name: "Export approved (Markdown)" });
    expect(link.getAttribute("href")).toBe("/api/faqs/export?workspace=default");
    expect(link.hasAttribute("download")).toBe(true);
    expect(await screen.findByText("No drafts to review")).toBeTruthy();
  });
});
