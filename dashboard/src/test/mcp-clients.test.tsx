import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { McpClients } from "../components/McpClients";
import { fakeApi } from "./fetch";

afterEach(() => vi.unstubAllGlobals());

const TOKEN = "mai_Zq3vUw0Yk2xR8pLm1nB4cD6eF9gH0jK2lM4nP6qR8sT";
const record = { id: "7f1c1a52-6f0e-4a53-9b1c-3d2f8f0a9e11", name: "Claude Code", prefix: TOKEN.slice(0, 10),
                 workspace: "ops", created_by: "admin@example.com", created_at: "2024-05-01T10:00:00+00:00",
                 last_used_at: null, revoked_at: null as string | null };
const sent = (fetch: ReturnType<typeof fakeApi>, method: string) => {
  const call = fetch.mock.calls.find(([, init]) => init?.method === method);
  return call && JSON.parse(String(call[1]!.body));
};

describe("MCP clients", () => {
  it("says what to do while there is no token", async () => {
    fakeApi({ "GET /api/tokens": () => ({ body: { tokens: [] } }) });
    render(<McpClients workspaces={["default"]} />);
    expect(await screen.findByText("No API tokens yet")).toBeInTheDocument();
    expect(screen.getByText(`${window.location.origin}/mcp`)).toBeInTheDocument();
  });

  it("creates a token for a workspace and shows it once, with client settings to copy", async () => {
    let tokens: object[] = [];
    const fetch = fakeApi({
      "GET /api/tokens": () => ({ body: { tokens } }),
      "POST /api/tokens": () => {
        tokens = [record];
        return { status: 201, body: { ...record, token: TOKEN } };
      },
    });
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    render(<McpClients workspaces={["default", "ops"]} />);
    await userEvent.type(await screen.findByLabelText("Who or what will use the token"), "Claude Code");
    await userEvent.selectOptions(screen.getByLabelText("Workspace the token reads"), "ops");
    await userEvent.click(screen.getByRole("button", { name: "Create token" }));

    const shown = await screen.findByRole("region", { name: "New API token" });
    expect(sent(fetch, "POST")).toEqual({ name: "Claude Code", workspace: "ops" });
    expect(within(shown).getByText(TOKEN)).toBeInTheDocument();
    expect(within(shown).getByText(/cannot show it again/)).toBeInTheDocument();
    const url = `${window.location.origin}/mcp`;
    expect(within(shown).getByText(
      `claude mcp add --transport http morningai ${url} --header "Authorization: Bearer ${TOKEN}"`)).toBeInTheDocument();
    const json = within(shown).getByText(/mcpServers/);
    expect(JSON.parse(json.textContent!)).toEqual(
      { mcpServers: { morningai: { type: "http", url, headers: { Authorization: `Bearer ${TOKEN}` } } } });
    await userEvent.click(within(shown).getByRole("button", { name: "Copy API token" }));
    expect(writeText).toHaveBeenCalledWith(TOKEN);
    expect(within(shown).getByRole("status")).toHaveTextContent("Copied");

    const row = screen.getByRole("row", { name: /Claude Code/ });
    expect(within(row).getByText(`${TOKEN.slice(0, 10)}…`)).toBeInTheDocument();
    expect(within(row).getByText("never")).toBeInTheDocument();
    await userEvent.click(within(shown).getByRole("button", { name: "Done" }));
    expect(screen.queryByText(TOKEN)).not.toBeInTheDocument();
  });

  it("tells how to copy by hand where the browser refuses the clipboard", async () => {
    fakeApi({
      "GET /api/tokens": () => ({ body: { tokens: [] } }),
      "POST /api/tokens": () => ({ status: 201, body: { ...record, token: TOKEN } }),
    });
    vi.stubGlobal("navigator", {});
    render(<McpClients workspaces={["default"]} />);
    await userEvent.type(await screen.findByLabelText("Who or what will use the token"), "Cursor");
    await userEvent.click(screen.getByRole("button", { name: "Create token" }));
    await userEvent.click(await screen.findByRole("button", { name: "Copy Claude Code" }));
    expect(screen.getByRole("status")).toHaveTextContent("select the text and copy it");
  });

  it("revokes a token after confirming, and shows the hub's refusal", async () => {
    let tokens = [record];
    let answer: { status: number; body: object } = { status: 403, body: { error: "viewers can look but not change anything: ask an admin" } };
    const fetch = fakeApi({
      "GET /api/tokens": () => ({ body: { tokens } }),
      [`DELETE /api/tokens/${record.id}`]: () => answer,
    });
    vi.stubGlobal("confirm", vi.fn(() => true));
    render(<McpClients workspaces={["default"]} />);
    await userEvent.click(await screen.findByRole("button", { name: "Revoke Claude Code" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("viewers can look but not change anything");

    answer = { status: 200, body: { ...record, revoked_at: "2024-05-02T10:00:00+00:00" } };
    tokens = [{ ...record, revoked_at: "2024-05-02T10:00:00+00:00" }];
    await userEvent.click(screen.getByRole("button", { name: "Revoke Claude Code" }));
    const row = await screen.findByRole("row", { name: /Claude Code/ });
    await waitFor(() => expect(within(row).getByText("revoked")).toBeInTheDocument());
    expect(within(row).queryByRole("button", { name: "Revoke Claude Code" })).not.toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(fetch.mock.calls.filter(([, init]) => init?.method === "DELETE")).toHaveLength(2);
  });
});
