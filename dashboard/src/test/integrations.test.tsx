import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Integrations } from "../pages/Integrations";
import { fakeApi } from "./fetch";
import { guideRoutes } from "./guides";

afterEach(() => vi.unstubAllGlobals());

const show = () => render(<MemoryRouter><Integrations /></MemoryRouter>);

const slack = (configured: boolean) => ({
  platform: "slack", name: "Slack", configured, connect_url: configured ? "/slack/install" : null,
  settings: [{ variable: "SLACK_SIGNING_SECRET", set: configured }],
});
const discord = (configured: boolean) => ({
  platform: "discord", name: "Discord", configured, connect_url: null,
  settings: [{ variable: "DISCORD_BOT_TOKEN", set: configured }],
});
const web = { platform: "web", name: "Web playground", configured: true, settings: [], connect_url: null };
// A channel's support-desk settings as the hub lists a channel that has none of its own.
const desk = { mode: "mention", threshold: null, unsure_reaction: null, review_channel: null, people: [],
               follow_up_minutes: null, follow_up_dms: false };
// The page's MCP clients card lists API tokens (tested in mcp-clients.test.tsx).
const noTokens = { "GET /api/tokens": () => ({ body: { tokens: [] } }) };
const sentBody = (fetch: ReturnType<typeof fakeApi>, method: string, path: string) => {
  const call = fetch.mock.calls.find(([url, init]) => String(url) === path && init?.method === method);
  return call && JSON.parse(String(call[1]!.body));
};

describe("integrations", () => {
  it("tells a newcomer how to connect a platform that is not configured", async () => {
    fakeApi({
      ...noTokens,
      ...guideRoutes,
      "GET /api/integrations": () => ({ body: { integrations: [web, slack(false), discord(false)] } }),
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
    });
    show();
    const card = await screen.findByRole("region", { name: "Slack" });
    expect(within(card).getByText("not configured")).toBeInTheDocument();
    expect(within(card).getByText(/manifest\.yml/)).toBeInTheDocument();
    expect(within(screen.getByRole("region", { name: "Discord" })).getByText(/“Connect Discord” walks through it/)).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Slack teams" })).not.toBeInTheDocument();
  });

  it("lists Slack teams, maps one to a workspace and disconnects it after confirming", async () => {
    let teams = [{ install_key: "T0TEAM1", team_name: "Acme", workspace: "slack-t0team1",
                   scopes: ["chat:write"], installed_at: "2024-05-01T10:00:00+00:00" }];
    const fetch = fakeApi({
      ...noTokens,
      ...guideRoutes,
      "GET /api/integrations": () => ({ body: { integrations: [web, slack(true), discord(false)] } }),
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }, { name: "support" }] } }),
      "GET /api/integrations/slack/teams": () => ({ body: { teams, single_workspace: null, connect_url: "/slack/install" } }),
      "PUT /api/integrations/slack/teams/T0TEAM1": () => ({ body: { install_key: "T0TEAM1", workspace: "support" } }),
      "DELETE /api/integrations/slack/teams/T0TEAM1": () => {
        teams = [];
        return { body: { disconnected: true, revoked: false, warning: "Slack did not revoke the token (fatal_error)" } };
      },
      "GET /api/channels/slack": () => ({ body: { channels: [] } }),
      "GET /api/knowledge/sources": () => ({ body: { sources: [] } }),
    });
    vi.stubGlobal("confirm", vi.fn(() => true));
    show();
    expect(await screen.findByRole("link", { name: "Add to a Slack team" })).toHaveAttribute("href", "/slack/install");
    await userEvent.selectOptions(await screen.findByLabelText("Workspace for Acme"), "support");
    await waitFor(() => expect(sentBody(fetch, "PUT", "/api/integrations/slack/teams/T0TEAM1")).toEqual({ workspace: "support" }));

    await userEvent.click(screen.getByRole("button", { name: "Disconnect Acme" }));
    expect(await screen.findByText("Disconnected T0TEAM1, but Slack did not revoke the token (fatal_error)")).toBeInTheDocument();
    expect(await screen.findByText("No Slack team installed yet")).toBeInTheDocument();
    expect(screen.getByText("No Slack channels yet")).toBeInTheDocument();
  });

  it("edits a channel's settings and saves them together, showing the hub's refusal", async () => {
    const channel = { channel: "900000000000000004", enabled: true, follow_ups: false, sources: null, kinds: null, ...desk,
                      custom: false, workspace: "default", last_task_at: "2024-05-01T10:00:00+00:00" };
    let answer: { status: number; body: object } = { status: 400, body: { error: "sources: 's1' is not a source of workspace 'default'" } };
    const fetch = fakeApi({
      ...noTokens,
      ...guideRoutes,
      "GET /api/integrations": () => ({ body: { integrations: [web, slack(false), discord(true)] } }),
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
      "GET /api/integrations/discord/guilds": () => ({ body: { guilds: [], connect_url: null, can_leave: true } }),
      "GET /api/channels/discord": () => ({ body: { channels: [channel] } }),
      "GET /api/knowledge/sources": () => ({ body: { sources: [{ id: "s1", location: "/docs/handbook" },
                                                                 { id: "s2", location: "https://example.com/faq" }] } }),
      "PUT /api/channels/discord/900000000000000004": () => answer,
    });
    show();
    expect(await screen.findByText("No Discord server yet")).toBeInTheDocument();
    await userEvent.click(await screen.findByRole("checkbox", { name: "Enabled in 900000000000000004" }));
    await userEvent.selectOptions(screen.getByLabelText("Replies in 900000000000000004"), "threads");
    await userEvent.click(screen.getByRole("checkbox", { name: "All sources in 900000000000000004" }));
    await userEvent.deselectOptions(screen.getByLabelText("Sources for 900000000000000004"), "https://example.com/faq");
    const kinds = screen.getByRole("group", { name: "Kinds taken in 900000000000000004" });
    for (const kind of ["code", "faq", "help"]) await userEvent.click(within(kinds).getByRole("checkbox", { name: kind }));

    await userEvent.click(screen.getByRole("button", { name: "Save 900000000000000004" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("is not a source of workspace 'default'");
    expect(sentBody(fetch, "PUT", "/api/channels/discord/900000000000000004")).toEqual(
      { enabled: false, follow_ups: true, sources: ["s1"], kinds: ["ask", "docs"], mode: "mention", people: null,
        follow_up_minutes: null, follow_up_dms: false });

    answer = { status: 200, body: { ...channel } };
    await userEvent.click(screen.getByRole("button", { name: "Save 900000000000000004" }));
    expect(await screen.findByText("Saved")).toBeInTheDocument();
  });

  it("sets a channel's answer mode with the settings that apply to it, showing the platform's refusal", async () => {
    const channel = { channel: "C0HELP", enabled: true, follow_ups: false, sources: null, kinds: null, ...desk,
                      custom: false, workspace: "default", last_task_at: null };
    let answer: { status: number; body: object } = {
      status: 400, body: { error: "review_channel: MorningAI is not in #elsewhere: /invite @MorningAI there first" } };
    const fetch = fakeApi({
      ...noTokens,
      ...guideRoutes,
      "GET /api/integrations": () => ({ body: { integrations: [web, slack(true), discord(false)] } }),
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
      "GET /api/integrations/slack/teams": () => ({ body: { teams: [], single_workspace: { workspace: "default" }, connect_url: null } }),
      "GET /api/channels/slack": () => ({ body: { channels: [channel] } }),
      "GET /api/knowledge/sources": () => ({ body: { sources: [] } }),
      "PUT /api/channels/slack/C0HELP": () => answer,
    });
    const put = () => fetch.mock.calls.filter(([url, init]) => String(url) === "/api/channels/slack/C0HELP" && init?.method === "PUT")
      .map(([, init]) => JSON.parse(String(init!.body)));
    show();
    await userEvent.click(await screen.findByText("Support desk in C0HELP:"));
    const mode = screen.getByRole("group", { name: "Answer mode in C0HELP" });
    expect(within(mode).getByRole("radio", { name: /Mentions/ })).toBeChecked();
    expect(screen.queryByLabelText("Review channel")).toBeNull(); // draft mode only

    await userEvent.click(within(mode).getByRole("radio", { name: /Draft/ }));
    await userEvent.type(screen.getByLabelText("Review channel"), "C0ELSEWHERE");
    await userEvent.type(screen.getByLabelText("People to ask"), "S0SUPPORT, U0LEAD");
    expect(screen.getByLabelText("People to ask")).toHaveAccessibleDescription(/Slack user group ids \(S0123ABCD\)/);
    await userEvent.type(screen.getByLabelText("Ask if it helped after (minutes)"), "60");
    await userEvent.click(screen.getByRole("checkbox", { name: "Also ask after answers in DMs" }));
    await userEvent.click(screen.getByRole("button", { name: "Save C0HELP" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "review_channel: MorningAI is not in #elsewhere: /invite @MorningAI there first");
    expect(put()).toEqual([{ enabled: true, follow_ups: false, sources: null, kinds: null, mode: "draft",
                             review_channel: "C0ELSEWHERE", people: ["S0SUPPORT", "U0LEAD"], follow_up_minutes: 60,
                             follow_up_dms: true }]);

    // Auto: the threshold and the unsure reaction instead; the review channel is kept as stored.
    await userEvent.click(within(mode).getByRole("radio", { name: /Auto/ }));
    expect(screen.queryByLabelText("Review channel")).toBeNull();
    await userEvent.type(screen.getByLabelText("Confidence needed"), "0.7");
    await userEvent.type(screen.getByLabelText("Reaction when unsure"), "thinking_face");
    answer = { status: 200, body: { ...channel, mode: "auto", custom: true } };
    await userEvent.click(screen.getByRole("button", { name: "Save C0HELP" }));
    expect(await screen.findByText("Saved")).toBeInTheDocument();
    expect(put()[1]).toEqual({ enabled: true, follow_ups: false, sources: null, kinds: null, mode: "auto", threshold: 0.7,
                               unsure_reaction: "thinking_face", people: ["S0SUPPORT", "U0LEAD"], follow_up_minutes: 60,
                               follow_up_dms: true });
  });

  it("refuses to save a channel that takes no kind at all", async () => {
    fakeApi({
      ...noTokens,
      ...guideRoutes,
      "GET /api/integrations": () => ({ body: { integrations: [web, slack(true), discord(false)] } }),
      "GET /api/workspaces": () => ({ body: { workspaces: [{ name: "default" }] } }),
      "GET /api/integrations/slack/teams": () => ({ body: { teams: [], single_workspace: { workspace: "default" }, connect_url: null } }),
      "GET /api/channels/slack": () => ({ body: { channels: [] } }),
      "GET /api/knowledge/sources": () => ({ body: { sources: [] } }),
    });
    show();
    expect(await screen.findByText(/answered from workspace/)).toHaveTextContent("The team of SLACK_BOT_TOKEN");
    await userEvent.type(await screen.findByLabelText("Add a Slack channel by id"), "C0NEW{Enter}");
    const kinds = await screen.findByRole("group", { name: "Kinds taken in C0NEW" });
    for (const kind of ["ask", "code", "docs", "faq", "help"]) await userEvent.click(within(kinds).getByRole("checkbox", { name: kind }));
    await userEvent.click(screen.getByRole("button", { name: "Save C0NEW" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Choose at least one kind, or switch the channel off.");
  });
});
