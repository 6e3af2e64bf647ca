import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, poll, type Job } from "../api";
import { Markdown } from "../components/Markdown";
import { Button, Card, EmptyState, ErrorNote, Field, PageHeader, StatusBadge, inputClass } from "../components/ui";
import { WorkspacePicker } from "../components/WorkspacePicker";

interface Source {
  id: string;
  kind: string;
  location: string;
  status: string;
  documents: number;
  chunks: number;
  skipped: { location: string; reason: string }[];
  last_run_at: string | null;
  last_error: string | null;
}

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
  const [job, setJob] = useState<Job | null>(null);
  const [location, setLocation] = useState("");
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const body = await api<{ sources: Source[] }>(`/api/knowledge/sources?workspace=${encodeURIComponent(workspace)}`);
      setSources(body.sources);
    } catch {
      setSources([]); // a workspace with nothing ingested yet
    }
  }, [workspace]);

  useEffect(() => void load(), [load]);

  async function follow(started: Promise<{ url: string }>) {
    setError(null);
    try {
      const { url } = await started;
      const last = await poll(() => api<Job>(url), jobDone, setJob);
      if (last.status === "failed") setError(new Error(`Ingest failed: ${last.error}`));
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
    if (!window.confirm(`Remove ${source.location} and everything ingested from it?`)) return;
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
      <div className="mb-6 grid gap-4 lg:grid-cols-2">
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
      </div>
      <ErrorNote error={error} />
      <Card title="Sources" className="mb-6">
        {sources === null ? (
          <p>Loading…</p>
        ) : sources.length === 0 ? (
          <EmptyState title="No knowledge in this workspace yet">
            Upload a few Markdown or PDF files above, or add a folder, a git repository or a URL. The bot answers from
            what you add here, with citations.
          </EmptyState>
        ) : (
          <table className="w-full text-left text-sm">
            <thead>
              <tr className="border-b border-slate-200 text-slate-600">
                <th className="py-2">Source</th><th>Status</th><th>Documents</th><th>Chunks</th><th>Last run</th><th><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {sources.map((source) => (
                <tr key={source.id} className="border-b border-slate-100 align-top">
                  <td className="py-2">
                    <span className="font-mono">{source.location}</span> <span className="text-slate-600">({source.kind})</span>
                    {source.last_error && <p className="text-red-800">{source.last_error}</p>}
                    {source.skipped.length > 0 && <p className="text-slate-600">{source.skipped.length} file(s) skipped</p>}
                  </td>
                  <td><StatusBadge status={source.status} /></td>
                  <td>{source.documents}</td>
                  <td>{source.chunks}</td>
                  <td>{source.last_run_at ? new Date(source.last_run_at).toLocaleString() : "—"}</td>
                  <td className="space-x-2 whitespace-nowrap">
                    <Button variant="secondary" aria-label={`Re-ingest ${source.location}`}
                            onClick={() => void follow(api(`/api/knowledge/sources/${source.id}/reingest?workspace=${encodeURIComponent(workspace)}`, { method: "POST" }))}>
                      Re-ingest
                    </Button>
                    <Button variant="danger" aria-label={`Delete ${source.location}`} onClick={() => void remove(source)}>
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
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
