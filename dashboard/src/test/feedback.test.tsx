import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionProvider } from "../auth";
import { Feedback } from "../pages/Feedback";
import { VotesChart } from "../pages/Overview";
import { SettingsPage } from "../pages/Settings";
import { fakeApi } from "./fetch";

afterEach(() => vi.unstubAllGlobals());

const session = (role: "admin" | "viewer") => () => ({
  body: { user: { id: "1", email: `${role}@example.com`, role }, csrf_token: "t" },
});
const asUser = (ui: React.ReactNode) => render(<MemoryRouter><SessionProvider>{ui}</SessionProvider></MemoryRouter>);

const disliked = {
  task_id: "t-down", platform: "discord", workspace: "default", channel: "1234", kind: "ask", status: "posted",
  question: "Where is the VPN config?", answer: "I could not find that.", up: 0, down: 2,
  last_vote_at: "2025-06-01T09:00:00+00:00", reviewed_at: null,
};
const liked = { ...disliked, task_id: "t-up", platform: "slack", question: "How do we deploy?", answer: "Run make deploy.", up: 1, down: 0 };

describe("feedback review", () => {
  it("lists answers as the hub orders them, links each to its task, and marks one reviewed", async () => {
    let queue = [disliked, liked];
    const fetch = fakeApi({
      "GET /api/auth/session": session("admin"),
      "GET /api/feedback": () => ({ body: { total: queue.length, feedback: queue } }),
      "POST /api/feedback/t-down/review": () => {
        queue = [liked];
        return { body: { task_id: "t-down", reviewed_at: "2025-06-01T10:00:00+00:00" } };
      },
    });
    asUser(<Feedback />);
    const list = await screen.findByRole("list", { name: "Answers with votes" });
    const [first, second] = within(list).getAllByRole("listitem");
    expect(first).toHaveTextContent("👎 2");
    expect(within(first).getByRole("link", { name: "Where is the VPN config?" })).toHaveAttribute("href", "/tasks/t-down");
    expect(first).toHaveTextContent("I could not find that.");
    expect(second).toHaveTextContent("How do we deploy?");
    const firstQuery = new URL(String(fetch.mock.calls.find(([url]) => String(url).startsWith("/api/feedback"))![0]), "http://hub.test");
    expect(firstQuery.searchParams.get("reviewed")).toBe("false"); // the queue, not everything

    await userEvent.click(screen.getByRole("button", { name: "Mark reviewed: Where is the VPN config?" }));
    await waitFor(() => expect(screen.queryByText("Where is the VPN config?")).not.toBeInTheDocument());
    expect(screen.getByText("1 answer(s) with votes")).toBeInTheDocument();
  });

  it("sends the filters, and says what to do when nothing is left", async () => {
    const fetch = fakeApi({
      "GET /api/auth/session": session("viewer"),
      "GET /api/feedback": () => ({ body: { total: 0, feedback: [] } }),
    });
    asUser(<Feedback />);
    expect(await screen.findByText("No feedback to review")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Integrations" })).toHaveAttribute("href", "/integrations");

    await userEvent.selectOptions(screen.getByLabelText("Votes"), "down");
    expect(await screen.findByText("No feedback matches these filters")).toBeInTheDocument();
    const last = new URL(String(fetch.mock.calls.at(-1)![0]), "http://hub.test");
    expect(last.searchParams.get("vote")).toBe("down");
    await userEvent.click(screen.getByRole("button", { name: "Show what is left to review" }));
    expect(await screen.findByText("No feedback to review")).toBeInTheDocument();
  });

  it("offers no review button to viewers", async () => {
    fakeApi({
      "GET /api/auth/session": session("viewer"),
      "GET /api/feedback": () => ({ body: { total: 1, feedback: [disliked] } }),
    });
    asUser(<Feedback />);
    expect(await screen.findByText("Where is the VPN config?")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Mark reviewed/ })).not.toBeInTheDocument();
  });
});

describe("votes over time", () => {
  it("sums the votes and the share of 👍", () => {
    render(<MemoryRouter><VotesChart votes={{
      bucket: "hour", up: 2, down: 1,
      series: [{ at: "2025-06-01T08:00:00+00:00", up: 0, down: 0 }, { at: "2025-06-01T09:00:00+00:00", up: 2, down: 1 }],
    }} /></MemoryRouter>);
    expect(screen.getByText(/2 👍 · 1 👎 · 67% helpful/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "review them" })).toHaveAttribute("href", "/feedback");
  });

  it("says where votes come from when there are none", () => {
    render(<MemoryRouter><VotesChart votes={{ bucket: "day", up: 0, down: 0, series: [] }} /></MemoryRouter>);
    expect(screen.getByText(/No votes yet in this window/)).toBeInTheDocument();
  });
});

const settingsBody = (openai: { set: boolean; source: string | null }) => ({
  settings: [], provider: openai.set ? "openai" : "offline", embedder: "automatic", note: "Changes apply within 5 seconds, with no restart.",
  secrets: [
    { variable: "OPENAI_API_KEY", editable: true, unreadable: false, description: "Key for OpenAI", ...openai },
    { variable: "MORNINGAI_SECRET_KEY", set: true, source: "generated", editable: false, unreadable: false, description: "Signs" },
  ],
});

describe("secrets in settings", () => {
  it("sends a secret once, empties the field, and clears the dashboard's value", async () => {
    let openai = { set: false, source: null as string | null };
    const fetch = fakeApi({
      "GET /api/auth/session": session("admin"),
      "GET /api/users": () => ({ body: { users: [] } }),
      "GET /api/settings": () => ({ body: settingsBody(openai) }),
      "PUT /api/secrets/OPENAI_API_KEY": () => {
        openai = { set: true, source: "dashboard" };
        return { body: settingsBody(openai) };
      },
      "DELETE /api/secrets/OPENAI_API_KEY": () => {
        openai = { set: false, source: null };
        return { body: settingsBody(openai) };
      },
    });
    asUser(<SettingsPage />);
    const field = await screen.findByLabelText("New value for OPENAI_API_KEY");
    expect(field).toHaveAttribute("type", "password");
    expect(screen.queryByLabelText("New value for MORNINGAI_SECRET_KEY")).not.toBeInTheDocument();
    expect(screen.getByText("set · generated into MORNINGAI_HOME")).toBeInTheDocument();

    await userEvent.type(field, "sk-typed-once");
    await userEvent.click(screen.getByRole("button", { name: "Save OPENAI_API_KEY" }));
    expect(await screen.findByText("set · from the dashboard")).toBeInTheDocument();
    expect(field).toHaveValue("");
    const put = fetch.mock.calls.find(([, init]) => init?.method === "PUT")!;
    expect(JSON.parse(String(put[1]!.body))).toEqual({ value: "sk-typed-once" });

    await userEvent.click(screen.getByRole("button", { name: "Clear the dashboard's OPENAI_API_KEY" }));
    await waitFor(() => expect(screen.getAllByText("not set")).toHaveLength(1));
  });

  it("shows viewers whether each secret is set, with nothing to type into", async () => {
    fakeApi({
      "GET /api/auth/session": session("viewer"),
      "GET /api/settings": () => ({ body: settingsBody({ set: true, source: "environment" }) }),
    });
    asUser(<SettingsPage />);
    expect(await screen.findByText("set · from the environment")).toBeInTheDocument();
    expect(screen.queryByLabelText("New value for OPENAI_API_KEY")).not.toBeInTheDocument();
    expect(screen.getByText(/Only admins can change them/)).toBeInTheDocument();
  });
});
