import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, poll, type Job } from "../api";
import { ConnectSource, KINDS } from "../components/ConnectSource";
import { Markdown } from "../components/Markdown";
import { Button, Card, EmptyState, ErrorNote, Field, HeadWithActions, PageHeader, StatusBadge, Table, inputClass } from "../components/ui";
import { WorkspacePicker } from "../components/WorkspacePicker";

interface Source {
  id: string;
  kind: string;
  location: string;
  // How people call it: the uploaded file's name, the folder's or repository's, the connector's.
  name: string | null;
  status: string;
  documents: number;
  chunks: number;
  skipped: { location: string; reason: string }[];
  last_run_at: string | null;
  last_error: string | null;
  // Sources a connector keeps in sync:
  schedule_minutes?: number | null;
  last_synced_at?: string | null;
  next_sync_at?: string | null;
  progress?: { done: number; total: number; current: string } | null;
  last_sync?: { added: number; updated: number; unchanged: number; deleted: number; embedded: number } | null;
}

/** Which embedder the hub takes with no workspace to match, and why (memory/embedders.py). */
interface Embedders {
  embedder: string | null; // what made this workspace's vectors, none before its first ingest
  hub_embedder: { kind: string; reason: string };
}

const synced = (source: Source) => source.kind in KINDS;
const named = (source: Source) => source.name ?? source.location;
const busy = (source: Source) => source.status === "syncing" || (synced(source) && source.status === "new");

interface Hit {
  title: string;
  location: string;
  heading: string;
  snippet: string;
  score: number;
}

const jobDone = (job: Job) => job.status === "finished" || job.status === "failed";

export function Knowledge() {
  const [workspace, setWorkspace] = useState("default");
  const [sources, setSources] = useState<Source[] | null>(null);
  const [embedders, setEmbedders] = useState<Embedders | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [location, setLocation] = useState("");
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const body = await api<{ sources: Source[] } & Embedders>(`/api/knowledge/sources?workspace=${encodeURIComponent(workspace)}`);
      setSources(body.sources);
      setEmbedders(body);
    } catch {
      setSources([]); // a workspace with nothing ingested yet
    }
  }, [workspace]);

  useEffect(() => void load(), [load]);
  // A sync runs on a worker: its progress is on the source's row, read again until it ends.
  const syncing = sources?.some(busy) ?? false;
  useEffect(() => {
    if (!syncing) return;
    const timer = window.setTimeout(() => void load(), 1500);
    return () => window.clearTimeout(timer);
  }, [syncing, sources, load]);

  async function follow(started: Promise<unknown>) {
    setError(null);
    try {
      const { url } = (await started) as { url: string };
      void load(); // a new source shows at once, its sync's progress on its row
      const last = await poll(() => api<Job>(url), jobDone, setJob);
      if (last.status === "failed") setError(new Error(`Failed: ${last.error}`));
      await load();
    } catch (caught) {
      setError(caught);
    }
  }

  function upload(files: FileList | null) {
    for (const file of Array.from(files ?? [])) {
      const form = new FormData();
      form.append("file", file);
      form.append("workspace", workspace);
      setJob({ id: "", status: `uploading ${file.name}`, progress: null, result: null, error: null });
      void follow(api("/api/knowledge/sources", { method: "POST", body: form }));
    }
  }

  function addLocation(event: FormEvent) {
    event.preventDefault();
    void follow(api("/api/knowledge/sources", { method: "POST", json: { location, workspace } }));
    setLocation("");
  }

  async function search(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const params = new URLSearchParams({ q: query, workspace });
      setHits((await api<{ hits: Hit[] }>(`/api/knowledge/search?${params}`)).hits);
    } catch (caught) {
      setError(caught);
    }
  }

  async function remove(source: Source) {
    if (!window.confirm(`Remove ${named(source)} and everything ingested from it?`)) return;
    try {
      await api(`/api/knowledge/sources/${source.id}?workspace=${encodeURIComponent(workspace)}`, { method: "DELETE" });
      await load();
    } catch (caught) {
      setError(caught);
    }
  }

  const progress = job?.progress;
  return (
    <>
      <PageHeader title="Knowledge">
        <WorkspacePicker value={workspace} onChange={setWorkspace} />
      </PageHeader>
      <div className="mb-6 grid gap-4 lg:grid-cols-3">
        <Card title="Upload files">
          <Field label="Markdown, text, HTML, PDF or source files" id="upload">
            <input id="upload" type="file" multiple className={inputClass} onChange={(e) => upload(e.target.files)} />
          </Field>
          {job && (
            <div aria-live="polite" className="text-sm">
              <p>
                <StatusBadge status={job.status} />{" "}
                {progress ? `${progress.files_done} of ${progress.files_total} files, ${progress.chunks} chunks` : ""}
                {job.result ? ` — ${job.result.summary}` : ""}
              </p>
              {progress && (
                <progress className="mt-2 w-full" max={progress.files_total || 1} value={progress.files_done}
                          aria-label="Ingest progress" />
              )}
            </div>
          )}
        </Card>
        <Card title="Add a folder, repository or URL">
          <form onSubmit={addLocation}>
            <Field label="Path on the hub's machine, git repository or https:// URL" id="location">
              <input id="location" required className={inputClass} value={location}
                     placeholder="/srv/handbook or https://example.com/docs"
                     onChange={(e) => setLocation(e.target.value)} />
            </Field>
            <Button type="submit">Add and ingest</Button>
          </form>
        </Card>
        <ConnectSource workspace={workspace} onStarted={(started) => void follow(started)} />
      </div>
      <ErrorNote error={error} />
      {embedders?.hub_embedder && (
        <p className="mb-3 text-sm text-slate-700" aria-label="Embedder">
          Embedder: <strong>{embedders.hub_embedder.kind}</strong> — {embedders.hub_embedder.reason}.
          {embedders.embedder && <> This workspace's passages were embedded with <code>{embedders.embedder}</code>.</>}
          {embedders.embedder && !embedders.embedder.startsWith(embedders.hub_embedder.kind) && (
            <strong className="block text-amber-900">
              Search refuses to mix the two: embed this workspace again with <code>morningai ingest --reembed PATH</code>,
              or set MORNINGAI_EMBEDDINGS to the workspace's embedder.
            </strong>
          )}
        </p>
      )}
      <Card title="Sources" className="mb-6">
        {sources === null ? (
          <p>Loading…</p>
        ) : sources.length === 0 ? (
          <EmptyState title="No knowledge in this workspace yet">
            Upload a few Markdown or PDF files above, add a folder, a git repository or a URL, or connect GitHub,
            Confluence, Notion or a web site to keep it in sync. The bot answers from what you add here, with citations.
          </EmptyState>
        ) : (
          <Table>
            <HeadWithActions columns={["Source", "Status", "Documents", "Chunks", "Last run"]} />
            <tbody>
              {sources.map((source) => (
                <tr key={source.id} className="border-b border-slate-100 align-top">
                  <td className="min-w-48 py-2 pr-3">
                    {synced(source) ? (
                      <a className="font-medium text-indigo-800 underline" href={source.location}>{named(source)}</a>
                    ) : (
                      <span className="font-medium" title={source.location}>{named(source)}</span>
                    )}{" "}
                    <span className="text-slate-600">({KINDS[source.kind]?.label ?? source.kind})</span>
                    {source.last_error && <p className="text-red-800">{source.last_error}</p>}
                    {source.skipped.length > 0 && (
                      <details className="text-slate-600">
                        <summary>{source.skipped.length} item(s) skipped</summary>
                        <ul>{source.skipped.map((s) => <li key={s.location}>{s.location}: {s.reason}</li>)}</ul>
                      </details>
                    )}
                    {source.status === "syncing" && source.progress && (
                      <progress className="mt-1 w-full" max={source.progress.total || 1} value={source.progress.done}
                                aria-label={`Sync progress of ${named(source)}`} />
                    )}
                    {source.last_sync && source.status !== "syncing" && (
                      <p className="text-slate-600">
                        Last sync: {source.last_sync.added} added, {source.last_sync.updated} updated,{" "}
                        {source.last_sync.unchanged} unchanged, {source.last_sync.deleted} removed
                      </p>
                    )}
                  </td>
                  <td className="py-2 pr-3"><StatusBadge status={source.status} /></td>
                  <td className="py-2 pr-3 tabular-nums">{source.documents}</td>
                  <td className="py-2 pr-3 tabular-nums">{source.chunks}</td>
                  <td className="py-2 pr-3">
                    {source.last_run_at ? new Date(source.last_run_at).toLocaleString() : "—"}
                    {source.next_sync_at && source.schedule_minutes && (
                      <p className="text-slate-600">next {new Date(source.next_sync_at).toLocaleString()}</p>
                    )}
                  </td>
                  <td className="space-x-2 whitespace-nowrap py-2">
                    {synced(source) ? (
                      <Button variant="secondary" aria-label={`Sync ${named(source)}`} disabled={busy(source)}
                              onClick={() => void follow(api(`/api/knowledge/sources/${source.id}/sync?workspace=${encodeURIComponent(workspace)}`, { method: "POST" }))}>
                        Sync now
                      </Button>
                    ) : (
                      <Button variant="secondary" aria-label={`Re-ingest ${named(source)}`}
                              onClick={() => void follow(api(`/api/knowledge/sources/${source.id}/reingest?workspace=${encodeURIComponent(workspace)}`, { method: "POST" }))}>
                        Re-ingest
                      </Button>
                    )}
                    <Button variant="danger" aria-label={`Delete ${named(source)}`} onClick={() => void remove(source)}>
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
      <Card title="Search">
        <form onSubmit={search} className="mb-3 flex gap-2">
          <label htmlFor="search" className="sr-only">Search the knowledge</label>
          <input id="search" className={inputClass} value={query} required placeholder="How do we deploy?"
                 onChange={(e) => setQuery(e.target.value)} />
          <Button type="submit">Search</Button>
        </form>
        {hits && hits.length === 0 && <p className="text-sm text-slate-600">Nothing found. Try other words, or add documents above.</p>}
        <ol aria-label="Search results" className="space-y-3">
          {hits?.map((hit, index) => (
            <li key={index} className="rounded border border-slate-200 p-3 text-sm">
              <p className="font-medium">{hit.heading || hit.title} <span className="font-normal text-slate-600">— {hit.location}</span></p>
              <div className="mt-1 text-slate-800"><Markdown text={hit.snippet} /></div>
            </li>
          ))}
        </ol>
      </Card>
    </>
  );
}
