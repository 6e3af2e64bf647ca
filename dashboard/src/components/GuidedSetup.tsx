import { useEffect, useState, type ReactNode } from "react";
import { Link } from "react-router-dom";
import { api } from "../api";
import { Copyable } from "./Copyable";
import { SecretRow, type SettingsBody } from "./SecretRow";
import { ErrorNote } from "./ui";

/** GET /api/integrations/slack/manifest (a 409 says what to set first). */
interface SlackManifest {
  public_url: string;
  yaml: string;
  json: unknown;
  create_url: string;
}

/** GET /api/integrations/discord/setup: each URL, or why there is none yet. */
interface DiscordSetup {
  interactions_url: string | null;
  interactions_url_problem: string | null;
  invite_url: string | null;
  invite_url_problem: string | null;
  scopes: string[];
  permissions: string[];
}

const SECRETS: Record<string, string[]> = {
  slack: ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"],
  discord: ["DISCORD_BOT_TOKEN", "DISCORD_PUBLIC_KEY"],
};

const linkClass = "font-medium text-indigo-700 underline";
const buttonLinkClass =
  "inline-block rounded bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

/**
 * Connecting Slack or Discord step by step, from this page: what to paste at the platform
 * (built on the hub's public URL), then the secrets it hands back, saved here. `test` is
 * where the Test connection button goes, as the last step.
 */
export function GuidedSetup({ platform, open, test }: { platform: string; open: boolean; test?: ReactNode }) {
  const [shown, setShown] = useState(open);
  const name = platform === "slack" ? "Slack" : "Discord";
  return (
    // Open at first while the platform is not configured, then as the person leaves it: saving the
    // secrets makes it configured, and the guide must not fold away before its Test step.
    <details open={shown} className="mb-4 rounded border border-slate-200 p-3"
             onToggle={(e) => setShown((e.currentTarget as HTMLDetailsElement).open)}>
      <summary className="cursor-pointer font-semibold text-slate-800">Connect {name} step by step</summary>
      {/* Asked for only when opened: a connected platform's card does not need it. */}
      {shown && (
        <section aria-label={`Connect ${name} step by step`}>
          <ol className="mt-3 list-decimal space-y-4 pl-5 text-sm text-slate-700">
            {platform === "slack" ? <SlackSteps secrets={<Secrets platform="slack" />} />
                                  : <DiscordSteps secrets={<Secrets platform="discord" />} />}
            <li>
              <p className="font-medium text-slate-800">Test it</p>
              {test}
              <p className="mt-2">
                {platform === "slack"
                  ? "In Slack, invite the bot to a channel (/invite @MorningAI) and mention it with a question."
                  : "In Discord, mention the bot in a channel of that server, or use /ask."}
              </p>
            </li>
          </ol>
        </section>
      )}
    </details>
  );
}

/** Where the public URL is missing or unusable: the hub's reason, and where to set it. */
function PublicUrlProblem({ error }: { error: unknown }) {
  return (
    <>
      <ErrorNote error={error} />
      <p>
        <Link className={linkClass} to="/settings">Set the public URL in Settings</Link> (or MORNINGAI_PUBLIC_URL in the hub's
        environment), then come back here.
      </p>
    </>
  );
}

/** The hub's answer to GET `path`, or its refusal. */
function useAnswer<T>(path: string) {
  const [body, setBody] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => void api<T>(path).then(setBody).catch(setError), [path]);
  return [body, error] as const;
}

/** Each platform's steps, with `secrets` (the fields to paste them in) where they come up. */
function SlackSteps({ secrets }: { secrets: ReactNode }) {
  const [manifest, error] = useAnswer<SlackManifest>("/api/integrations/slack/manifest");
  return (
    <>
      <li>
        <p className="mb-2 font-medium text-slate-800">Create the Slack app from this hub's manifest</p>
        {error ? <PublicUrlProblem error={error} /> : manifest && (
          <>
            <p className="mb-2">
              Slack opens with the manifest filled in, every URL pointing at {manifest.public_url}: pick your workspace, then
              Next and Create.
            </p>
            <p className="mb-3">
              <a className={buttonLinkClass} href={manifest.create_url} target="_blank" rel="noreferrer">Create Slack app</a>
            </p>
            <p className="mb-2">Or paste the manifest at api.slack.com/apps → Create New App → From a manifest:</p>
            <Copyable label="Manifest (YAML)" text={manifest.yaml} folded />
            <Copyable label="Manifest (JSON)" text={JSON.stringify(manifest.json, null, 2)} folded />
          </>
        )}
      </li>
      <li>
        <p className="font-medium text-slate-800">Install it to your workspace</p>
        <p>On the app's <strong>Install App</strong> page, click <strong>Install to Workspace</strong> and allow it.</p>
      </li>
      {secrets}
    </>
  );
}

function DiscordSteps({ secrets }: { secrets: ReactNode }) {
  const [setup, error] = useAnswer<DiscordSetup>("/api/integrations/discord/setup");
  return (
    <>
      <li>
        <p className="font-medium text-slate-800">Create the application</p>
        <p>
          In the <a className={linkClass} href="https://discord.com/developers/applications" target="_blank" rel="noreferrer">
          Discord Developer Portal</a>, click New Application; its Bot page makes the bot.
        </p>
        <ErrorNote error={error} />
      </li>
      {secrets}
      {setup && (
        <>
          <li>
            <p className="mb-2 font-medium text-slate-800">Invite the bot to your server</p>
            {setup.invite_url ? (
              <>
                <p className="mb-3">
                  <a className={buttonLinkClass} href={setup.invite_url} target="_blank" rel="noreferrer">Invite the bot</a>
                </p>
                <Copyable label="Invite URL" text={setup.invite_url} />
                <p className="text-xs text-slate-600">
                  Scopes: {setup.scopes.join(", ")}. Permissions: {setup.permissions.join(", ")}.
                </p>
              </>
            ) : <p role="status">{setup.invite_url_problem}</p>}
          </li>
          <li>
            <p className="mb-2 font-medium text-slate-800">Interactions Endpoint URL (for slash commands without the gateway bot)</p>
            {setup.interactions_url ? (
              <>
                <p className="mb-2">
                  With DISCORD_PUBLIC_KEY saved above, paste this on the application's General Information page: Discord
                  checks it when you save.
                </p>
                <Copyable label="Interactions Endpoint URL" text={setup.interactions_url} />
              </>
            ) : <PublicUrlProblem error={setup.interactions_url_problem} />}
          </li>
        </>
      )}
    </>
  );
}

/** The platform's secrets, each saved on its own through the secrets API, never shown again
 * (the hub refuses a viewer's save, and says so). */
function Secrets({ platform }: { platform: string }) {
  const [body, setBody] = useState<SettingsBody | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => void api<SettingsBody>("/api/settings").then(setBody).catch(setError), []);
  const secrets = body?.secrets.filter((secret) => SECRETS[platform].includes(secret.variable)) ?? [];
  return (
    <li>
      <p className="font-medium text-slate-800">Paste its secrets</p>
      <p>
        {platform === "slack"
          ? "The Signing Secret is on the app's Basic Information page (App Credentials); the Bot User OAuth Token (xoxb-…) on its Install App page."
          : "The bot token: the Bot page, Reset Token. The public key: the General Information page."}
      </p>
      <ErrorNote error={error} />
      <ul className="divide-y divide-slate-100">
        {secrets.map((secret) => (
          <SecretRow key={secret.variable} secret={secret} admin onChange={setBody} />
        ))}
      </ul>
    </li>
  );
}
