import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Support } from "../pages/Support";
import { fakeApi } from "./fetch";

afterEach(() => vi.unstubAllGlobals());

const show = () => render(<MemoryRouter><Support /></MemoryRouter>);

/** A drafted task as the task list and GET /api/tasks/<id> give it. */
function drafted(id: string, question: string, answer: string) {
  return {
    summary: { id, platform: "slack", workspace: "default", channel: "C0HELP", user_id: "U0ASKS", kind: "ask",
               status: "drafted", text: question, attempts: 1, error: null, received_at: "2024-05-01T10:00:00+00:00",
               seconds: null, cost_usd: null },
    task: { id, status: "drafted", text: question, reply: { text: answer, citations: [], metadata: {} } },
  };
}

const escalation = (id: string, text: string, waiting_seconds: number, by: string) => ({
  id, platform: "slack", channel: "C0HELP", text, user_id: "U0ASKS", workspace: "default",
  escalated_at: "2024-05-01T10:00:00+00:00", escalated_by: by, waiting_seconds,
});

const posted = (fetch: ReturnType<typeof fakeApi>, path: string) =>
  fetch.mock.calls.filter(([url, init]) => String(url) === path && init?.method === "POST");

describe("support", () => {
  it("says what to do when there are no drafts and nobody asked for a person", async () => {
    fakeApi({
      "GET /api/tasks": () => ({ body: { total: 0, tasks: [] } }),
      "GET /api/escalations": () => ({ body: { escalations: [] } }),
    });
    show();
    const drafts = await screen.findByRole("region", { name: "Drafts waiting for review" });
    expect(await within(drafts).findByText("No drafts waiting")).toBeInTheDocument();
    expect(within(drafts).getByText(/Set a channel's answer mode to Draft/)).toBeInTheDocument();
    expect(within(drafts).getByRole("link", { name: "Integrations" })).toHaveAttribute("href", "/integrations");
    const handed = screen.getByRole("region", { name: "Handed over to a person" });
    expect(await within(handed).findByText("Nobody asked for a person")).toBeInTheDocument();
  });

  it("publishes, edits and dismisses drafts, and resolves questions handed over to a person", async () => {
    const drafts = [drafted("d1", "How do we deploy?", "Run **make deploy** [1]."),
                    drafted("d2", "Where are the logs?", "In Grafana."),
                    drafted("d3", "Can I expense a desk?", "Yes.")];
    const fetch = fakeApi({
      "GET /api/tasks": () => ({ body: { total: 3, tasks: drafts.map((d) => d.summary) } }),
      ...Object.fromEntries(drafts.map((d) => [`GET /api/tasks/${d.summary.id}`, () => ({ body: d.task })])),
      "POST /api/tasks/d1/publish": () => ({ status: 202, body: { id: "d1", status: "queued",
                                                                   result: "published: it is being posted in the question's thread" } }),
      "POST /api/tasks/d2/publish": () => ({ status: 202, body: { id: "d2", status: "queued", result: "published: it is being posted in the question's thread" } }),
      "POST /api/tasks/d3/dismiss": () => ({ body: { id: "d3", status: "skipped", result: "dismissed" } }),
      "GET /api/escalations": () => ({ body: { escalations: [
        escalation("e1", "Why is staging down?", 12 * 60 + 30, "slack:U0ASKS"),
        escalation("e2", "Who owns billing?", 3 * 3600 + 5 * 60, "slack:U0LEAD"),
      ] } }),
      "POST /api/tasks/e1/resolve": () => ({ body: { id: "e1", resolved: true, already: false, support: {} } }),
    });
    show();

    const first = await screen.findByRole("article", { name: "How do we deploy?" });
    expect(within(first).getByText("make deploy").tagName).toBe("STRONG"); // the draft's Markdown, rendered
    expect(within(first).getByText(/slack · C0HELP · workspace default/)).toHaveTextContent("by U0ASKS");
    expect(within(first).getByRole("link", { name: "Open task" })).toHaveAttribute("href", "/tasks/d1");
    await userEvent.click(within(first).getByRole("button", { name: "Publish" }));
    expect(await screen.findByText("“How do we deploy?”: published: it is being posted in the question's thread."))
      .toBeInTheDocument();
    expect(screen.queryByRole("article", { name: "How do we deploy?" })).toBeNull();
    expect(posted(fetch, "/api/tasks/d1/publish")[0][1]!.body).toBeUndefined(); // the draft as it is

    const second = screen.getByRole("article", { name: "Where are the logs?" });
    await userEvent.click(within(second).getByRole("button", { name: "Edit" }));
    const edit = within(second).getByLabelText("Edited answer");
    expect(edit).toHaveValue("In Grafana.");
    await userEvent.type(edit, " Search for the trace id.");
    await userEvent.click(within(second).getByRole("button", { name: "Publish edited" }));
    await waitFor(() => expect(screen.queryByRole("article", { name: "Where are the logs?" })).toBeNull());
    expect(JSON.parse(String(posted(fetch, "/api/tasks/d2/publish")[0][1]!.body)))
      .toEqual({ text: "In Grafana. Search for the trace id." });

    await userEvent.click(within(screen.getByRole("article", { name: "Can I expense a desk?" })).getByRole("button", { name: "Dismiss" }));
    expect(await screen.findByText("“Can I expense a desk?”: dismissed.")).toBeInTheDocument();
    expect(await screen.findByText("No drafts waiting")).toBeInTheDocument();

    const handed = screen.getByRole("table", { name: "Questions handed over to a person, oldest first" });
    const [, staging, billing] = within(handed).getAllByRole("row");
    expect(within(staging).getByRole("link", { name: "Why is staging down?" })).toHaveAttribute("href", "/tasks/e1");
    expect(staging).toHaveTextContent("12 min");
    expect(staging).not.toHaveTextContent("handed over by"); // the asker asked for a person
    expect(billing).toHaveTextContent("3 h 5 min");
    expect(billing).toHaveTextContent("handed over by U0LEAD");
    await userEvent.click(within(staging).getByRole("button", { name: "Resolve “Why is staging down?”" }));
    expect(await screen.findByText("“Why is staging down?”: resolved.")).toBeInTheDocument();
    expect(within(handed).queryByText("Why is staging down?")).toBeNull();
    expect(within(handed).getByText("Who owns billing?")).toBeInTheDocument();
    expect(posted(fetch, "/api/tasks/e1/resolve")).toHaveLength(1);
  });

  it("keeps a draft someone else settled, with the hub's reason", async () => {
    const draft = drafted("d4", "How do we deploy?", "Run make deploy.");
    fakeApi({
      "GET /api/tasks": () => ({ body: { total: 1, tasks: [draft.summary] } }),
      "GET /api/tasks/d4": () => ({ body: draft.task }),
      "POST /api/tasks/d4/publish": () => ({
        status: 409, body: { error: "only a drafted answer can be reviewed: the draft was already dismissed by slack:U0LEAD" } }),
      "GET /api/escalations": () => ({ body: { escalations: [] } }),
    });
    show();
    const item = await screen.findByRole("article", { name: "How do we deploy?" });
    await userEvent.click(within(item).getByRole("button", { name: "Publish" }));
    expect(await within(item).findByRole("alert")).toHaveTextContent("the draft was already dismissed by slack:U0LEAD");
    expect(within(item).getByRole("button", { name: "Publish" })).toBeEnabled();
  });
});
