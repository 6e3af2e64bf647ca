import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GuidedSetup } from "../components/GuidedSetup";
import { fakeApi } from "./fetch";
import { PUBLIC, discordSetup, guideRoutes, manifest, settingsBody } from "./guides";

afterEach(() => vi.unstubAllGlobals());

const show = (platform: string, open = true) =>
  render(<MemoryRouter><GuidedSetup platform={platform} open={open} test={<button type="button">Test connection</button>} /></MemoryRouter>);
const clipboard = () => {
  const writeText = vi.fn(async (_text: string) => undefined);
  vi.stubGlobal("navigator", { clipboard: { writeText } });
  return writeText;
};

describe("the guided connection", () => {
  it("creates the Slack app from the hub's manifest, copies it, saves the secrets and ends on the test", async () => {
    const signingSecret = { ...settingsBody.secrets[1], set: true, source: "dashboard" };
    const fetch = fakeApi({
      ...guideRoutes,
      "PUT /api/secrets/SLACK_SIGNING_SECRET": () => ({
        body: { ...settingsBody, secrets: settingsBody.secrets.map((s) => (s.variable === "SLACK_SIGNING_SECRET" ? signingSecret : s)) },
      }),
    });
    const writeText = clipboard();
    show("slack");
    const guide = await screen.findByRole("region", { name: "Connect Slack step by step" });

    const create = await within(guide).findByRole("link", { name: "Create Slack app" });
    const link = new URL(create.getAttribute("href")!);
    expect(link.origin + link.pathname).toBe("https://api.slack.com/apps");
    expect(link.searchParams.get("new_app")).toBe("1");
    expect(JSON.parse(link.searchParams.get("manifest_json")!)).toEqual(manifest);
    expect(within(guide).getByText(new RegExp(`every URL pointing at ${PUBLIC}`))).toBeInTheDocument();

    await userEvent.click(within(guide).getByRole("button", { name: "Copy Manifest (YAML)" }));
    expect(writeText).toHaveBeenLastCalledWith("display_information:\n  name: MorningAI\n");
    await userEvent.click(within(guide).getByRole("button", { name: "Copy Manifest (JSON)" }));
    expect(JSON.parse(writeText.mock.lastCall![0])).toEqual(manifest);

    // Only Slack's two secrets, saved through the secrets API, never shown again.
    expect(within(guide).queryByLabelText("New value for DISCORD_BOT_TOKEN")).not.toBeInTheDocument();
    await userEvent.type(within(guide).getByLabelText("New value for SLACK_SIGNING_SECRET"), "8f14e45fceea167a");
    await userEvent.click(within(guide).getByRole("button", { name: "Save SLACK_SIGNING_SECRET" }));
    await waitFor(() => expect(within(guide).getByText("set · from the dashboard")).toBeInTheDocument());
    const put = fetch.mock.calls.find(([url, init]) => String(url) === "/api/secrets/SLACK_SIGNING_SECRET" && init?.method === "PUT");
    expect(JSON.parse(String(put![1]!.body))).toEqual({ value: "8f14e45fceea167a" });
    expect(within(guide).getByLabelText("New value for SLACK_SIGNING_SECRET")).toHaveValue("");
    expect(within(guide).getByLabelText("New value for SLACK_BOT_TOKEN")).toBeInTheDocument();

    const steps = within(guide).getAllByRole("listitem").filter((item) => item.parentElement?.tagName === "OL");
    expect(steps.map((step) => step.querySelector("p")!.textContent)).toEqual([
      "Create the Slack app from this hub's manifest", "Install it to your workspace", "Paste its secrets", "Test it"]);
    expect(within(steps[3]).getByRole("button", { name: "Test connection" })).toBeInTheDocument();
  });

  it("says what to set, and where, while the hub has no public URL Slack can reach", async () => {
    fakeApi({
      ...guideRoutes,
      "GET /api/integrations/slack/manifest": () => ({
        status: 409, body: { error: "Set this hub's public URL first (MORNINGAI_PUBLIC_URL, in Settings or the hub's environment)" },
      }),
    });
    show("slack");
    expect(await screen.findByRole("alert")).toHaveTextContent("Set this hub's public URL first (MORNINGAI_PUBLIC_URL");
    expect(screen.getByRole("link", { name: "Set the public URL in Settings" })).toHaveAttribute("href", "/settings");
    expect(screen.queryByRole("link", { name: "Create Slack app" })).not.toBeInTheDocument();
    expect(await screen.findByLabelText("New value for SLACK_BOT_TOKEN")).toBeInTheDocument(); // the other steps stay
  });

  it("gives Discord's invite URL and interactions URL to copy", async () => {
    fakeApi(guideRoutes);
    const writeText = clipboard();
    show("discord");
    const guide = await screen.findByRole("region", { name: "Connect Discord step by step" });
    expect(await within(guide).findByRole("link", { name: "Invite the bot" })).toHaveAttribute("href", discordSetup.invite_url);
    expect(within(guide).getByText(/Scopes: bot, applications.commands/)).toBeInTheDocument();
    await userEvent.click(within(guide).getByRole("button", { name: "Copy Interactions Endpoint URL" }));
    expect(writeText).toHaveBeenLastCalledWith(`${PUBLIC}/discord/interactions`);
    await userEvent.click(within(guide).getByRole("button", { name: "Copy Invite URL" }));
    expect(writeText).toHaveBeenLastCalledWith(discordSetup.invite_url);
    expect(await within(guide).findByLabelText("New value for DISCORD_PUBLIC_KEY")).toBeInTheDocument();
    expect(within(guide).queryByLabelText("New value for SLACK_BOT_TOKEN")).not.toBeInTheDocument();
    // The public key is saved before the Interactions Endpoint URL is pasted: Discord checks it at once.
    const steps = within(guide).getAllByRole("listitem").filter((item) => item.parentElement?.tagName === "OL");
    expect(steps.map((step) => step.querySelector("p")!.textContent)).toEqual([
      "Create the application", "Paste its secrets", "Invite the bot to your server",
      "Interactions Endpoint URL (for slash commands without the gateway bot)", "Test it"]);
  });

  it("says why a Discord URL is missing", async () => {
    fakeApi({
      ...guideRoutes,
      "GET /api/integrations/discord/setup": () => ({
        body: { ...discordSetup, invite_url: null, invite_url_problem: "Set DISCORD_APPLICATION_ID in the hub's environment",
                interactions_url: null, interactions_url_problem: "Set this hub's public URL first" },
      }),
    });
    show("discord");
    expect(await screen.findByText("Set DISCORD_APPLICATION_ID in the hub's environment")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Set this hub's public URL first");
    expect(screen.queryByRole("link", { name: "Invite the bot" })).not.toBeInTheDocument();
  });

  it("stays closed, asking the hub nothing, on a platform already connected until opened", async () => {
    const fetch = fakeApi(guideRoutes);
    show("slack", false);
    expect(fetch).not.toHaveBeenCalled();
    await userEvent.click(screen.getByText("Connect Slack step by step"));
    expect(await screen.findByRole("link", { name: "Create Slack app" })).toBeInTheDocument();
  });
});
