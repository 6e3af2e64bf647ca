import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api";
import { GuidedSetup } from "../components/GuidedSetup";
import { ChannelSettings } from "../components/ChannelSettings";
import { McpClients } from "../components/McpClients";
import { TestConnection } from "../components/TestConnection";
import { Button, Card, EmptyState, ErrorNote, PageHeader, StatusBadge, Table, inputClass } from "../components/ui";

interface Integration {
  platform: string;
  name: string;
  configured: boolean;
  settings: { variable: string; set: boolean }[];
  connect_url: string | null;
}

interface Team {
  install_key: string;
  team_name: string | null;
  workspace: string;
  scopes: string[];
  installed_at: string;
}

interface Guild {
  guild_id: string;
  workspace: string;
  mapped: boolean;
  last_task_at: string | null;
}

interface Disconnected {
  warning: string | null;
}

const HOW_TO: Record<string, string> = {
  slack: "Create a Slack app from adapters/slack/manifest.yml, then set its signing secret and bot token (one team), or its OAuth client id and secret (many teams): the secrets in Settings or the hub's environment, the client id in the environment. Secrets saved in Settings apply within seconds, with no restart. The README's “Connect Slack” walks through it.",
  discord: "Create a Discord application with a bot, then set its bot token (in Settings or the hub's environment) and its application id (in the environment); a token saved in Settings applies within seconds, with no restart. The README's “Connect Discord” walks through it.",
};

const day = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString() : "—");

export function Integrations() {
  const [integrations, setIntegrations] = useState<Integration[] | null>(null);
  const [workspaces, setWorkspaces] = useState<string[]>(["default"]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<{ integrations: Integration[] }>("/api/integrations").then((b) => setIntegrations(b.integrations)).catch(setError);
    api<{ workspaces: { name: string }[] }>("/api/workspaces")
      .then((b) => setWorkspaces(b.workspaces.map((w) => w.name)))
      .catch(setError);
  }, []);
  const chats = integrations?.filter((i) => i.platform !== "web") ?? [];
  return (
    <>
      <PageHeader title="Integrations" />
      <ErrorNote error={error} />
      <div className="space-y-6">
        <Card title="Web playground">
          <p className="text-sm text-slate-700">
            <StatusBadge status="ready" /> Always on: ask in the{" "}
            <Link className="text-indigo-700 underline" to="/playground">Playground</Link>, or with <code>morningai ask</code>.
          </p>
        </Card>
        <Card title="MCP clients">
          <McpClients workspaces={workspaces} />
        </Card>
        <Card title="Model">
          <TestConnection platform="model" name="The model server" />
        </Card>
        {chats.map((integration) => (
          <Card key={integration.platform} title={integration.name}>
            <Status integration={integration} />
            {integration.configured && <TestConnection platform={integration.platform} name={integration.name} />}
            {integration.configured && (
              <>
                {integration.platform === "slack"
                  ? <SlackTeams workspaces={workspaces} />
                  : <DiscordGuilds workspaces={workspaces} />}
                <h3 className="mb-2 mt-6 font-semibold text-slate-800">Channels</h3>
                <ChannelSettings platform={integration.platform} />
              </>
            )}
            <GuidedSetup platform={integration.platform} open={!integration.configured}
                         test={<TestConnection platform={integration.platform} name={integration.name} />} />
          </Card>
        ))}
      </div>
    </>
  );
}

function Status({ integration }: { integration: Integration }) {
  return (
    <div className="mb-4 flex flex-wrap items-start justify-between gap-3">
      <div className="text-sm">
        <p className="mb-2"><StatusBadge status={integration.configured ? "ready" : "not configured"} /></p>
        {!integration.configured && <p className="mb-2 max-w-prose text-slate-700">{HOW_TO[integration.platform]}</p>}
        <ul>
          {integration.settings.map((setting) => (
            <li key={setting.variable}><code>{setting.variable}</code>: {setting.set ? "set" : "not set"}</li>
          ))}
        </ul>
      </div>
      {integration.connect_url && (
        <a href={integration.connect_url} target="_blank" rel="noreferrer"
           className="rounded bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
          {integration.platform === "slack" ? "Add to a Slack team" : "Invite the bot to a server"}
        </a>
      )}
    </div>
  );
}

function WorkspaceSelect({ label, value, workspaces, onChange }: {
  label: string; value: string; workspaces: string[]; onChange: (workspace: string) => void;
}) {
  return (
    <label className="text-sm">
      <span className="sr-only">{label}</span>
      <select className={`${inputClass} w-auto`} value={value} onChange={(e) => onChange(e.target.value)}>
        {[...new Set([value, ...workspaces])].map((name) => <option key={name}>{name}</option>)}
      </select>
    </label>
  );
}

/** A change, then the list again; a disconnect's warning (the platform did not confirm) is shown. */
function useList<T>(path: string) {
  const [body, setBody] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const load = useCallback(() => api<T>(path).then(setBody).catch(setError), [path]);
  useEffect(() => void load(), [load]);
  async function change(request: Promise<unknown>, done: string) {
    setError(null);
    setNote(null);
    try {
      const result = (await request) as Partial<Disconnected> | undefined;
      setNote(result?.warning ? `${done}, but ${result.warning}` : done);
      await load();
    } catch (caught) {
      setError(caught);
    }
  }
  return { body, error, note, change };
}

function SlackTeams({ workspaces }: { workspaces: string[] }) {
  const { body, error, note, change } = useList<{
    teams: Team[]; single_workspace: { workspace: string } | null; connect_url: string | null;
  }>("/api/integrations/slack/teams");
  function disconnect(team: Team) {
    if (!window.confirm(`Disconnect ${team.team_name ?? team.install_key}? Its token is revoked; the team can install again later.`)) return;
    void change(api(`/api/integrations/slack/teams/${team.install_key}`, { method: "DELETE" }), `Disconnected ${team.install_key}`);
  }
  return (
    <section aria-label="Slack teams">
      <h3 className="mb-2 font-semibold text-slate-800">Teams</h3>
      <ErrorNote error={error} />
      {note && <p role="status" className="mb-2 text-sm text-slate-700">{note}</p>}
      {body?.single_workspace && (
        <p className="mb-2 text-sm text-slate-700">
          <StatusBadge status="connected" /> The team of <code>SLACK_BOT_TOKEN</code>, answered from workspace{" "}
          <strong>{body.single_workspace.workspace}</strong>. Remove the variable to disconnect it.
        </p>
      )}
      {body && body.teams.length === 0 && !body.single_workspace && (
        <EmptyState title="No Slack team installed yet">
          {body.connect_url
            ? <>Use “Add to a Slack team” above; once the team approves, it shows here and you can pick its workspace.</>
            : <>Set <code>SLACK_BOT_TOKEN</code> for one team, or <code>SLACK_CLIENT_ID</code> and <code>SLACK_CLIENT_SECRET</code> so teams can install.</>}
        </EmptyState>
      )}
      {body && body.teams.length > 0 && (
        <Table>
          <caption className="sr-only">Installed Slack teams</caption>
          <thead><tr className="border-b border-slate-200 text-slate-600">
            <th scope="col" className="py-2 pr-3">Team</th><th scope="col" className="py-2 pr-3">Workspace</th>
            <th scope="col" className="py-2 pr-3">Scopes</th><th scope="col" className="py-2 pr-3">Installed</th>
            <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>
          </tr></thead>
          <tbody>
            {body.teams.map((team) => (
              <tr key={team.install_key} className="border-b border-slate-100">
                <th scope="row" className="py-2 pr-3 font-normal">{team.team_name ?? team.install_key}
                  <span className="block font-mono text-xs text-slate-600">{team.install_key}</span></th>
                <td className="py-2 pr-3">
                  <WorkspaceSelect label={`Workspace for ${team.team_name ?? team.install_key}`} value={team.workspace}
                                   workspaces={workspaces} onChange={(workspace) => void change(
                                     api(`/api/integrations/slack/teams/${team.install_key}`, { method: "PUT", json: { workspace } }),
                                     `${team.install_key} is answered from ${workspace}`)} />
                </td>
                <td className="py-2 pr-3 text-xs">{team.scopes.join(", ")}</td>
                <td className="py-2 pr-3">{day(team.installed_at)}</td>
                <td className="py-2"><Button variant="danger" onClick={() => disconnect(team)}
                                             aria-label={`Disconnect ${team.team_name ?? team.install_key}`}>Disconnect</Button></td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}

function DiscordGuilds({ workspaces }: { workspaces: string[] }) {
  const { body, error, note, change } = useList<{ guilds: Guild[]; connect_url: string | null; can_leave: boolean }>(
    "/api/integrations/discord/guilds");
  function disconnect(guild: Guild) {
    if (!window.confirm(`Disconnect server ${guild.guild_id}? The bot leaves it; invite it again to come back.`)) return;
    void change(api(`/api/integrations/discord/guilds/${guild.guild_id}`, { method: "DELETE" }), `Disconnected ${guild.guild_id}`);
  }
  return (
    <section aria-label="Discord servers">
      <h3 className="mb-2 font-semibold text-slate-800">Servers</h3>
      <ErrorNote error={error} />
      {note && <p role="status" className="mb-2 text-sm text-slate-700">{note}</p>}
      {body && body.guilds.length === 0 && (
        <EmptyState title="No Discord server yet">
          {body.connect_url ? "Use “Invite the bot to a server” above, " : "Set DISCORD_APPLICATION_ID for an invite link, invite the bot, "}
          then ask it something there (<code>/ask</code>): the server shows here and you can pick its workspace.
        </EmptyState>
      )}
      {body && body.guilds.length > 0 && (
        <Table>
          <caption className="sr-only">Discord servers</caption>
          <thead><tr className="border-b border-slate-200 text-slate-600">
            <th scope="col" className="py-2 pr-3">Server id</th><th scope="col" className="py-2 pr-3">Workspace</th>
            <th scope="col" className="py-2 pr-3">Last question</th>
            <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>
          </tr></thead>
          <tbody>
            {body.guilds.map((guild) => (
              <tr key={guild.guild_id} className="border-b border-slate-100">
                <th scope="row" className="py-2 pr-3 font-mono font-normal">{guild.guild_id}</th>
                <td className="py-2 pr-3">
                  <WorkspaceSelect label={`Workspace for server ${guild.guild_id}`} value={guild.workspace}
                                   workspaces={workspaces} onChange={(workspace) => void change(
                                     api(`/api/integrations/discord/guilds/${guild.guild_id}`, { method: "PUT", json: { workspace } }),
                                     `${guild.guild_id} is answered from ${workspace}`)} />
                </td>
                <td className="py-2 pr-3">{day(guild.last_task_at)}</td>
                <td className="py-2"><Button variant="danger" onClick={() => disconnect(guild)}
                                             aria-label={`Disconnect server ${guild.guild_id}`}>Disconnect</Button></td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {body && !body.can_leave && body.guilds.length > 0 && (
        <p className="mt-2 text-xs text-slate-600">Without <code>DISCORD_BOT_TOKEN</code> the bot cannot leave a server by itself: disconnecting only forgets its workspace.</p>
      )}
    </section>
  );
}
