import { useEffect, useState, type FormEvent } from "react";
import { api, poll } from "../api";
import { Button, ErrorNote, Field, StatusBadge, inputClass } from "./ui";
import { WorkspacePicker } from "./WorkspacePicker";

/** A doc change proposed to the docs repository as a pull request (GET /api/proposals). */
export interface Proposal {
  id: string;
  kind: "faq" | "doc" | "gap";
  title: string;
  branch: string;
  path: string;
  state: "proposing" | "open" | "unchanged" | "merged" | "closed" | "failed";
  message: string | null;
  pull_number: number | null;
  pull_url: string | null;
  earlier: { number: number; url: string; state: string }[];
  updated_at: string;
}

export interface DocsRepository {
  repository: string;
  base_branch: string;
  docs_path: string;
  faq_path: string;
  api_url: string;
  token_set: boolean;
}

/** Where a proposal stands: its pull request's link and state, or why there is none. */
export function ProposalState({ proposal }: { proposal: Proposal }) {
  return (
    <span aria-live="polite" className="text-sm">
      <StatusBadge status={proposal.state} />{" "}
      {proposal.pull_url && (
        <a className="text-indigo-700 underline" href={proposal.pull_url} target="_blank" rel="noreferrer">
          Pull request #{proposal.pull_number}
        </a>
      )}
      {proposal.state === "proposing" && "Writing it to GitHub…"}
      {proposal.message && <span className={proposal.state === "failed" ? "text-red-800" : "text-slate-600"}> {proposal.message}</span>}
    </span>
  );
}

/** "Propose to the repository": POST /api/proposals/<kind>, then follow the proposal until a
 * worker has written it to GitHub. A hub with no docs repository says where to set one. */
export function ProposeButton({ kind, body, name }: {
  kind: Proposal["kind"];
  body: Record<string, unknown>;
  name?: string; // what it proposes, for a screen reader where several buttons share a page
}) {
  const [proposal, setProposal] = useState<Proposal | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function propose() {
    setError(null);
    setBusy(true);
    try {
      const asked = await api<Proposal & { url: string }>(`/api/proposals/${kind}`, { method: "POST", json: body });
      setProposal(asked);
      await poll(() => api<Proposal>(asked.url), (p) => p.state !== "proposing", setProposal, 1000);
    } catch (caught) {
      setError(caught); // no docs repository (409) says where to set one
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button variant="secondary" disabled={busy} aria-label={name && `Propose ${name} to the repository`}
              onClick={() => void propose()}>
        Propose to the repository
      </Button>
      {proposal && <ProposalState proposal={proposal} />}
      <ErrorNote error={error} />
    </div>
  );
}

const FIELDS: { name: keyof Omit<DocsRepository, "token_set">; label: string; placeholder: string }[] = [
  { name: "repository", label: "Repository (owner/name)", placeholder: "acme/handbook" },
  { name: "base_branch", label: "Base branch: pull requests go into it", placeholder: "main" },
  { name: "docs_path", label: "Docs folder: new pages are written here", placeholder: "docs/" },
  { name: "faq_path", label: "FAQ file", placeholder: "FAQ.md" },
  { name: "api_url", label: "GitHub API", placeholder: "https://api.github.com" },
];

/** The workspace's docs repository: where "Propose to the repository" opens pull requests. The
 * token is write-only: sent once, never shown, kept when the field is left blank. */
export function DocsRepositoryForm({ admin }: { admin: boolean }) {
  const [workspace, setWorkspace] = useState("default");
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [tokenSet, setTokenSet] = useState(false);
  const [token, setToken] = useState("");
  const [proposals, setProposals] = useState<Proposal[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const ws = `?workspace=${encodeURIComponent(workspace)}`;

  function show(repository: DocsRepository | null) {
    setDraft(Object.fromEntries(FIELDS.map(({ name }) => [name, repository?.[name] ?? ""])));
    setTokenSet(repository?.token_set ?? false);
    setToken("");
  }
  useEffect(() => {
    setSaved(false);
    api<{ repository: DocsRepository | null; proposals: Proposal[] }>(`/api/proposals${ws}`)
      .then((body) => {
        show(body.repository);
        setProposals(body.proposals);
      })
      .catch(setError);
  }, [ws]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    const values = Object.fromEntries(Object.entries(draft).filter(([, value]) => value.trim() !== ""));
    try {
      const body = await api<{ repository: DocsRepository }>(`/api/proposals/repository${ws}`, {
        method: "PUT", json: { ...values, ...(token ? { token } : {}) },
      });
      show(body.repository);
      setSaved(true);
    } catch (caught) {
      setError(caught);
    }
  }

  async function remove() {
    setError(null);
    try {
      await api(`/api/proposals/repository${ws}`, { method: "DELETE" });
      show(null);
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <form onSubmit={save} aria-label="Docs repository">
      <div className="mb-3"><WorkspacePicker value={workspace} onChange={setWorkspace} /></div>
      <p className="mb-3 text-sm text-slate-700">
        “Propose to the repository” (on FAQs, a generated document's task and the Overview's coverage gaps) opens a pull
        request here: a branch, the file written, and the questions that asked for it. MorningAI never merges it.
      </p>
      {FIELDS.map(({ name, label, placeholder }) => (
        <Field key={name} id={`docs-${name}`} label={label}>
          <input id={`docs-${name}`} className={inputClass} placeholder={placeholder} value={draft[name] ?? ""}
                 disabled={!admin} onChange={(e) => setDraft((d) => ({ ...d, [name]: e.target.value }))} />
        </Field>
      ))}
      <Field id="docs-token" label="Token with contents:write and pull_requests:write">
        <input id="docs-token" type="password" autoComplete="off" className={inputClass} value={token} disabled={!admin}
               placeholder={tokenSet ? "set (leave blank to keep it)" : "github_pat_…"} onChange={(e) => setToken(e.target.value)} />
      </Field>
      <ErrorNote error={error} />
      {saved && <p role="status" className="mb-2 text-sm text-green-800">Saved.</p>}
      <div className="flex gap-2">
        <Button type="submit" disabled={!admin}>Save docs repository</Button>
        {tokenSet && <Button type="button" variant="danger" disabled={!admin} onClick={() => void remove()}>Remove</Button>}
      </div>
      {proposals.length > 0 && (
        <ul className="mt-4 divide-y divide-slate-100 text-sm" aria-label="Proposals">
          {proposals.map((proposal) => (
            <li key={proposal.id} className="py-2">
              <span className="font-medium">{proposal.title}</span> <span className="font-mono text-xs">{proposal.path}</span>{" "}
              <ProposalState proposal={proposal} />
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
