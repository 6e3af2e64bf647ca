// What the hub answers the guided connection (components/GuidedSetup.tsx) when its public URL
// and Discord's application id are set and no secret is: a platform not configured yet opens it.
export const PUBLIC = "https://hub.example.org";
export const manifest = {
  display_information: { name: "MorningAI" },
  settings: { event_subscriptions: { request_url: `${PUBLIC}/slack/events` } },
};
const secret = (variable: string) => ({ variable, set: false, source: null, editable: true, unreadable: false, description: `${variable}, as the hub describes it` });
export const settingsBody = {
  settings: [], provider: "offline", embedder: "hash", note: "",
  secrets: ["OPENAI_API_KEY", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DISCORD_PUBLIC_KEY"].map(secret),
};
export const discordSetup = {
  interactions_url: `${PUBLIC}/discord/interactions`, interactions_url_problem: null,
  invite_url: "https://discord.com/oauth2/authorize?client_id=123456789012345678&scope=bot+applications.commands&permissions=326417591360",
  invite_url_problem: null, scopes: ["bot", "applications.commands"], permissions: ["Send Messages", "View Channel"],
};
export const guideRoutes = {
  "GET /api/integrations/slack/manifest": () => ({
    body: { public_url: PUBLIC, yaml: "display_information:\n  name: MorningAI\n", json: manifest,
            create_url: `https://api.slack.com/apps?new_app=1&manifest_json=${encodeURIComponent(JSON.stringify(manifest))}` },
  }),
  "GET /api/integrations/discord/setup": () => ({ body: discordSetup }),
  "GET /api/settings": () => ({ body: settingsBody }),
};
