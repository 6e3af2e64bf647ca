import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DocsRepositoryForm, type Proposal, ProposeButton } from "../components/Proposals";
import { CoverageGaps } from "../components/SupportNumbers";
import { fakeApi } from "./fetch";

const PROPOSING: Proposal = {
  id: "p1", kind: "faq", title: "FAQ", branch: "morningai/faq", path: "FAQ.md", state: "proposing", message: null,
  pull_number: null, pull_url: null, earlier: [], updated_at: "2026-01-05T09:00:00Z",
};
const OPEN: Proposal = { ...PROPOSING, state: "open", pull_number: 7, pull_url: "https://github.com/acme/handbook/pull/7" };

afterEach(() => vi.unstubAllGlobals());

describe("Propose to the repository", () => {
  it("proposes, then shows the pull request's link and state once a worker wrote it", async () => {
    const fetch = fakeApi({
      "POST /api/proposals/faq": () => ({ status: 202, body: { ...PROPOSING, url: "/api/proposals/p1?workspace=docs" } }),
      "GET /api/proposals/p1": () => ({ body: OPEN }),
    });
    render(<ProposeButton kind="faq" body={{ workspace: "docs" }} />);
    fireEvent.click(screen.getByRole("button", { name: "Propose to the repository" }));
    const link = await screen.findByRole("link", { name: "Pull request #7" });
    expect(link).toHaveAttribute("href", OPEN.pull_url);
    expect(screen.getByText("open")).toBeInTheDocument();
    expect(JSON.parse(String(fetch.mock.calls[0][1]?.body))).toEqual({ workspace: "docs" });
  });

  it("shows GitHub's refusal on a failed proposal", async () => {
    fakeApi({
      "POST /api/proposals/doc": () => ({ status: 202, body: { ...PROPOSING, kind: "doc", url: "/api/proposals/p1" } }),
      "GET /api/proposals/p1": () => ({
        body: { ...PROPOSING, state: "failed", message: "GitHub refused: GET …: HTTP 401 Bad credentials" },
      }),
    });
    render(<ProposeButton kind="doc" body={{ task_id: "t1" }} />);
    fireEvent.click(screen.getByRole("button", { name: "Propose to the repository" }));
    expect(await screen.findByText(/HTTP 401 Bad credentials/)).toBeInTheDocument();
    expect(screen.getByText("failed")).toBeInTheDocument();
    expect(screen.queryByRole("link")).not.toBeInTheDocument();
  });

  it("says where to set a docs repository when none is", async () => {
    fakeApi({
      "POST /api/proposals/faq": () => ({
        status: 409,
        body: { error: "no docs repository is set for workspace 'default': set one in the dashboard (Settings, Docs repository)" },
      }),
    });
    render(<ProposeButton kind="faq" body={{ workspace: "default" }} />);
    fireEvent.click(screen.getByRole("button", { name: "Propose to the repository" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Settings, Docs repository");
  });

  it("proposes a coverage gap with its title and questions' task ids", async () => {
    const fetch = fakeApi({
      "POST /api/proposals/gap": () => ({ status: 202, body: { ...PROPOSING, kind: "gap", url: "/api/proposals/p1" } }),
      "GET /api/proposals/p1": () => ({ body: { ...OPEN, kind: "gap" } }),
    });
    render(<MemoryRouter><CoverageGaps gaps={[{ title: "Rotate the VPN keys", questions: 2, escalated: 0,
      examples: ["how do we rotate the VPN keys?"], task_ids: ["t1", "t2"] }]} /></MemoryRouter>);
    fireEvent.click(screen.getByRole("button", { name: "Propose “Rotate the VPN keys” to the repository" }));
    await screen.findByRole("link", { name: "Pull request #7" });
    expect(JSON.parse(String(fetch.mock.calls[0][1]?.body))).toEqual({ title: "Rotate the VPN keys", task_ids: ["t1", "t2"] });
  });
});

describe("the docs repository's settings", () => {
  it("saves the repository and sends the token once, never showing it", async () => {
    const saved = { repository: "acme/handbook", base_branch: "main", docs_path: "docs/", faq_path: "FAQ.md",
                    api_url: "https://api.github.com", token_set: true };
    const fetch = fakeApi({
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
      "GET /api/proposals": () => ({ body: { workspace: "default", repository: null, proposals: [] } }),
      "PUT /api/proposals/repository": () => ({ body: { workspace: "default", repository: saved } }),
    });
    render(<DocsRepositoryForm admin />);
    fireEvent.change(await screen.findByLabelText("Repository (owner/name)"), { target: { value: "acme/handbook" } });
    fireEvent.change(screen.getByLabelText("Token with contents:write and pull_requests:write"),
                     { target: { value: "github_pat_secret" } });
    fireEvent.click(screen.getByRole("button", { name: "Save docs repository" }));
    expect(await screen.findByText("Saved.")).toBeInTheDocument();
    const put = fetch.mock.calls.find(([, init]) => init?.method === "PUT");
    expect(JSON.parse(String(put?.[1]?.body))).toEqual({ repository: "acme/handbook", token: "github_pat_secret" });
    const token = screen.getByLabelText("Token with contents:write and pull_requests:write");
    await waitFor(() => expect(token).toHaveValue(""));
    expect(token).toHaveAttribute("placeholder", "set (leave blank to keep it)");
    expect(screen.getByLabelText("Base branch: pull requests go into it")).toHaveValue("main");
  });

  it("lists the workspace's proposals with their pull requests", async () => {
    fakeApi({
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
      "GET /api/proposals": () => ({ body: { workspace: "default", repository: null, proposals: [OPEN] } }),
    });
    render(<DocsRepositoryForm admin={false} />);
    const listed = await screen.findByRole("list", { name: "Proposals" });
    expect(listed).toHaveTextContent("FAQ");
    expect(screen.getByRole("link", { name: "Pull request #7" })).toHaveAttribute("href", OPEN.pull_url);
    expect(screen.getByRole("button", { name: "Save docs repository" })).toBeDisabled();
  });
});
