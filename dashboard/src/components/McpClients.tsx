import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api } from "../api";
import { Copyable } from "./Copyable";
import { Button, EmptyState, ErrorNote, HeadWithActions, StatusBadge, Table, inputClass } from "./ui";

interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  workspace: string;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** POST /api/tokens: the record, and the token itself, which the hub never shows again. */
interface MadeToken extends ApiToken {
  token: string;
}

const day = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "never");

/** API tokens MCP clients connect with: one workspace each, shown once, revocable. */
export function McpClients({ workspaces }: { workspaces: string[] }) {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [made, setMade] = useState<MadeToken | null>(null);
  const [name, setName] = useState("");
  const [workspace, setWorkspace] = useState("default");
  const [error, setError] = useState<unknown>(null);
  const url = `${window.location.origin}/mcp`;
  const load = useCallback(() => api<{ tokens: ApiToken[] }>("/api/tokens").then((b) => setTokens(b.tokens)).catch(setError), []);
  useEffect(() => void load(), [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      setMade(await api<MadeToken>("/api/tokens", { method: "POST", json: { name, workspace } }));
      setName("");
      await load();
    } catch (caught) {
      setError(caught);
    }
  }

  async function revoke(token: ApiToken) {
    if (!window.confirm(`Revoke “${token.name}” (${token.prefix}…)? MCP clients using it are refused from now on.`)) return;
    setError(null);
    try {
      await api(`/api/tokens/${token.id}`, { method: "DELETE" });
      await load();
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <>
      <p className="mb-3 max-w-prose text-sm text-slate-700">
        Let an AI assistant (Claude Code, Cursor, VS Code, …) search this hub's knowledge, read its documents and ask it
        questions, over MCP at <code>{url}</code>. Each API token reads one workspace; the README's “Connect an MCP client”
        has the details.
      </p>
      <form onSubmit={create} className="mb-4 grid gap-2 sm:grid-cols-[1fr_12rem_auto]">
        <label className="sr-only" htmlFor="token-name">Who or what will use the token</label>
        <input id="token-name" required maxLength={80} placeholder="who will use it, e.g. Claude Code, Ana's laptop"
               className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />
        <label className="sr-only" htmlFor="token-workspace">Workspace the token reads</label>
        <select id="token-workspace" className={inputClass} value={workspace} onChange={(e) => setWorkspace(e.target.value)}>
          {[...new Set([workspace, ...workspaces])].map((w) => <option key={w}>{w}</option>)}
        </select>
        <Button type="submit">Create token</Button>
      </form>
      <ErrorNote error={error} />
      {made && <NewToken made={made} url={url} onDone={() => setMade(null)} />}
      {tokens && tokens.length === 0 && !made && (
        <EmptyState title="No API tokens yet">
          Create one above for the workspace an assistant should read, then paste the command or the JSON it shows into
          your MCP client.
        </EmptyState>
      )}
      {tokens && tokens.length > 0 && (
        <Table>
          <caption className="sr-only">API tokens</caption>
          <HeadWithActions columns={["Name", "Token", "Workspace", "Created", "Last used", "Status"]} />
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id} className="border-b border-slate-100">
                <th scope="row" className="py-2 pr-3 font-normal">{token.name}</th>
                <td className="py-2 pr-3 font-mono">{token.prefix}…</td>
                <td className="py-2 pr-3">{token.workspace}</td>
                <td className="py-2 pr-3">{day(token.created_at)}{token.created_by && ` by ${token.created_by}`}</td>
                <td className="py-2 pr-3">{day(token.last_used_at)}</td>
                <td className="py-2 pr-3"><StatusBadge status={token.revoked_at ? "revoked" : "active"} /></td>
                <td className="py-2">
                  {!token.revoked_at && (
                    <Button variant="danger" aria-label={`Revoke ${token.name}`} onClick={() => void revoke(token)}>Revoke</Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

/** The new token and client settings with it filled in: the one time the hub shows it. */
function NewToken({ made, url, onDone }: { made: MadeToken; url: string; onDone: () => void }) {
  const header = `Bearer ${made.token}`;
  const claude = `claude mcp add --transport http morningai ${url} --header "Authorization: ${header}"`;
  const json = JSON.stringify({ mcpServers: { morningai: { type: "http", url, headers: { Authorization: header } } } }, null, 2);
  return (
    <section aria-label="New API token" className="mb-4 rounded border border-amber-300 bg-amber-50 p-3">
      <p className="mb-2 text-sm font-medium text-amber-950">
        Copy “{made.name}” now: the hub keeps only a hash of it and cannot show it again. It reads workspace {made.workspace}.
      </p>
      <Copyable label="API token" text={made.token} />
      <Copyable label="Claude Code" text={claude} />
      <Copyable label="JSON (.mcp.json, Cursor's mcp.json)" text={json} />
      <Button variant="secondary" onClick={onDone}>Done</Button>
    </section>
  );
}
