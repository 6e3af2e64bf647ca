import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TestConnection } from "../components/TestConnection";
import { fakeApi } from "./fetch";

afterEach(() => vi.unstubAllGlobals());

describe("Test connection", () => {
  it("shows the platform's own refusal, then its answer", async () => {
    let answer: object = { platform: "slack", ok: false, message: "Slack refused SLACK_BOT_TOKEN: invalid_auth",
                           answer: { ok: false, error: "invalid_auth" } };
    const fetch = fakeApi({ "POST /api/integrations/slack/test": () => ({ body: answer }) });
    render(<TestConnection platform="slack" name="Slack" />);
    await userEvent.click(screen.getByRole("button", { name: "Test connection" }));

    const refused = await screen.findByRole("status");
    expect(within(refused).getByText("failed")).toBeInTheDocument();
    expect(within(refused).getByText("Slack refused SLACK_BOT_TOKEN: invalid_auth")).toBeInTheDocument();
    expect(within(refused).getByText(/"error": "invalid_auth"/)).toBeInTheDocument();
    expect(fetch.mock.calls[0][1]?.method).toBe("POST");

    answer = { platform: "slack", ok: true, message: "connected to Slack team Acme as @morningai",
               answer: { ok: true, team: "Acme", user: "morningai" } };
    await userEvent.click(screen.getByRole("button", { name: "Test connection" }));
    const connected = await screen.findByText("connected to Slack team Acme as @morningai");
    expect(within(screen.getByRole("status")).getByText("connected")).toBeInTheDocument();
    expect(connected).toBeInTheDocument();
  });

  it("says which secret to set when there is nothing to test with", async () => {
    fakeApi({ "POST /api/integrations/model/test": () => ({
      status: 409, body: { error: "OPENAI_API_KEY is not set: without a model key the hub answers offline" } }) });
    render(<TestConnection platform="model" name="The model server" />);
    expect(screen.getByText(/the model server's \/models/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Test connection" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("OPENAI_API_KEY is not set");
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
  });
});
