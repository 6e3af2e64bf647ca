import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Knowledge } from "../pages/Knowledge";
import { fakeApi } from "./fetch";

const SYNCING = {
  id: "s1", kind: "github", location: "https://github.com/acme/handbook", name: "acme/handbook", status: "syncing",
  documents: 12, chunks: 40, skipped: [{ location: "https://github.com/acme/handbook/blob/main/big.pdf", reason: "larger than 10000000 bytes" }],
  last_run_at: "2026-12-04T09:00:00Z", last_error: null, schedule_minutes: 60, next_sync_at: null,
  progress: { done: 30, total: 120, current: "docs/deploy.md" }, last_sync: null,
};

afterEach(() => vi.unstubAllGlobals());

describe("Knowledge: sources a connector keeps in sync", () => {
  it("sends the settings and the secrets apart, with the schedule, and follows the first sync", async () => {
    let sent: Record<string, unknown> = {};
    const calls = fakeApi({
      "GET /api/knowledge/sources": () => ({ body: { workspace: "default", sources: [] } }),
      "POST /api/knowledge/sources": (init) => {
        sent = JSON.parse(String(init.body));
        return { status: 202, body: { job: "j1", status: "queued", url: "/api/knowledge/jobs/j1" } };
      },
      "GET /api/knowledge/jobs/j1": () => ({ body: { id: "j1", status: "finished", progress: null, error: null,
                                                      result: { summary: "3 listed, 3 added" } } }),
    });
    render(<Knowledge />);
    fireEvent.change(await screen.findByLabelText("Repository"), { target: { value: "acme/handbook" } });
    fireEvent.change(screen.getByLabelText(/^Only these paths/), { target: { value: "docs/**\n*.md\n" } });
    fireEvent.change(screen.getByLabelText("Access token"), { target: { value: "github_pat_123" } });
    fireEvent.change(screen.getByLabelText("Sync"), { target: { value: "1440" } });
    fireEvent.click(screen.getByRole("button", { name: "Connect and sync" }));
    await waitFor(() => expect(sent.kind).toBe("github"));
    expect(sent).toEqual({
      kind: "github", workspace: "default", schedule_minutes: 1440,
      settings: { repository: "acme/handbook", include: ["docs/**", "*.md"] },
      credentials: { token: "github_pat_123" },
    });
    await waitFor(() => expect(calls.mock.calls.some(([url]) => String(url).includes("/jobs/j1"))).toBe(true));
    expect(screen.getByLabelText("Access token")).toHaveValue(""); // the secret does not linger in the form
  });

  it("connects a Confluence space (optionally one page tree) and Notion pages, their secrets apart", async () => {
    const sent: Record<string, unknown>[] = [];
    fakeApi({
      "GET /api/knowledge/sources": () => ({ body: { workspace: "default", sources: [] } }),
      "POST /api/knowledge/sources": (init) => {
        sent.push(JSON.parse(String(init.body)));
        return { status: 202, body: { job: "j1", status: "queued", url: "/api/knowledge/jobs/j1" } };
      },
      "GET /api/knowledge/jobs/j1": () => ({ body: { id: "j1", status: "finished", progress: null, error: null,
                                                      result: { summary: "1 listed, 1 added" } } }),
    });
    render(<Knowledge />);
    fireEvent.change(await screen.findByLabelText("Service"), { target: { value: "confluence" } });
    fireEvent.change(screen.getByLabelText("Site"), { target: { value: "https://acme.atlassian.net" } });
    fireEvent.change(screen.getByLabelText("Space key"), { target: { value: "ENG" } });
    fireEvent.change(screen.getByLabelText(/^Only this page and below/), { target: { value: "65601" } });
    fireEvent.change(screen.getByLabelText("Account email"), { target: { value: "bot@acme.com" } });
    fireEvent.change(screen.getByLabelText("API token"), { target: { value: "ATATT-1" } });
    fireEvent.click(screen.getByRole("button", { name: "Connect and sync" }));
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatchObject({
      kind: "confluence", settings: { site: "https://acme.atlassian.net", space: "ENG", root: "65601" },
      credentials: { email: "bot@acme.com", api_token: "ATATT-1" },
    });

    fireEvent.change(screen.getByLabelText("Service"), { target: { value: "notion" } });
    fireEvent.change(screen.getByLabelText(/^Only these pages and below/),
                     { target: { value: "https://www.notion.so/acme/Handbook-0123456789abcdef0123456789abcdef\n" } });
    fireEvent.change(screen.getByLabelText("Integration token"), { target: { value: "ntn_1" } });
    fireEvent.click(screen.getByRole("button", { name: "Connect and sync" }));
    await waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1]).toMatchObject({
      kind: "notion", settings: { pages: ["https://www.notion.so/acme/Handbook-0123456789abcdef0123456789abcdef"] },
      credentials: { token: "ntn_1" },
    });
    expect(sent[1].settings).not.toHaveProperty("databases"); // left empty: not sent
  });

  it("shows a running sync's progress, what it skipped and why, and offers no second sync meanwhile", async () => {
    fakeApi({ "GET /api/knowledge/sources": () => ({ body: { workspace: "default", sources: [SYNCING] } }) });
    render(<Knowledge />);
    const bar = await screen.findByLabelText("Sync progress of acme/handbook");
    expect(bar).toHaveAttribute("value", "30");
    expect(bar).toHaveAttribute("max", "120");
    expect(screen.getByText("1 item(s) skipped")).toBeInTheDocument();
    expect(screen.getByText(/big.pdf: larger than 10000000 bytes/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sync acme/handbook" })).toBeDisabled();
    expect(screen.getByRole("link", { name: "acme/handbook" })).toHaveAttribute("href", SYNCING.location);
  });

  it("shows a failing source's reason and the last sync's counts", async () => {
    const failing = { ...SYNCING, status: "failing", progress: null, last_error: "GET …/repos/acme/handbook: HTTP 401 Bad credentials",
                      last_sync: { added: 2, updated: 1, unchanged: 9, deleted: 0, embedded: 14 } };
    fakeApi({ "GET /api/knowledge/sources": () => ({ body: { workspace: "default", sources: [failing] } }) });
    render(<Knowledge />);
    expect(await screen.findByText(/HTTP 401 Bad credentials/)).toBeInTheDocument();
    expect(screen.getByText(/2 added, 1 updated,\s+9 unchanged, 0 removed/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Sync acme/handbook" })).toBeEnabled();
  });
});

describe("Knowledge: sources and the embedder", () => {
  it("names an upload by its file name, not the hub's path to it, and says which embedder and why", async () => {
    const upload = { ...SYNCING, id: "s2", kind: "file", location: "/srv/morningai/uploads/default/vpn.md", name: "vpn.md",
                     status: "ready", skipped: [], progress: null, schedule_minutes: null };
    fakeApi({ "GET /api/knowledge/sources": () => ({ body: { workspace: "default", embedder: "hash-v1", sources: [upload],
      hub_embedder: { kind: "hash", reason: "no OPENAI_API_KEY and the local model is not installed" } } }) });
    render(<Knowledge />);
    expect(await screen.findByText("vpn.md")).toHaveAttribute("title", upload.location);
    expect(screen.queryByText(upload.location)).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Re-ingest vpn.md" })).toBeEnabled();
    expect(screen.getByLabelText("Embedder")).toHaveTextContent(
      "Embedder: hash — no OPENAI_API_KEY and the local model is not installed. This workspace's passages were embedded with hash-v1.");
    expect(screen.getAllByRole("columnheader").map((th) => th.textContent)).toEqual(
      ["Source", "Status", "Documents", "Chunks", "Last run", "Actions"]);
    expect(screen.queryByText(/Search refuses to mix the two/)).not.toBeInTheDocument();
  });

  it("says how to re-embed a workspace made with another embedder than the hub takes now", async () => {
    fakeApi({ "GET /api/knowledge/sources": () => ({ body: { workspace: "default", embedder: "hash-v1", sources: [],
      hub_embedder: { kind: "local", reason: "no OPENAI_API_KEY, and the local model (all-MiniLM-L6-v2) is installed" } } }) });
    render(<Knowledge />);
    expect(await screen.findByText(/Search refuses to mix the two/)).toHaveTextContent("morningai ingest --reembed PATH");
  });
});
