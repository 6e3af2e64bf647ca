import { useCallback, useEffect, useState } from "react";
import { api, poll, type Job } from "../api";
import { Button, Card, EmptyState, ErrorNote, PageHeader, StatusBadge, inputClass } from "../components/ui";
import { ProposeButton } from "../components/Proposals";
import { WorkspacePicker } from "../components/WorkspacePicker";

interface Faq {
  id: string;
  question: string;
  answer: string;
  topic: string | null;
  status: string;
  asked_count: number;
  askers: number;
  confidence: number | null;
}

function FaqCard({ faq, workspace, onChange }: { faq: Faq; workspace: string; onChange: () => void }) {
  const [editing, setEditing] = useState(false);
  const [question, setQuestion] = useState(faq.question);
  const [answer, setAnswer] = useState(faq.answer);
  const [error, setError] = useState<unknown>(null);
  const ws = `?workspace=${encodeURIComponent(workspace)}`;

  async function act(request: Promise<unknown>) {
    try {
      await request;
      setEditing(false);
      onChange();
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <Card>
      <div className="mb-2 flex items-center gap-2 text-sm text-slate-600">
        <StatusBadge status={faq.status} /> {faq.topic ?? "General"} · asked {faq.asked_count}× by {faq.askers}
      </div>
      {editing ? (
        <>
          <label className="mb-1 block text-sm font-medium" htmlFor={`q-${faq.id}`}>Question</label>
          <input id={`q-${faq.id}`} className={`${inputClass} mb-2`} value={question} onChange={(e) => setQuestion(e.target.value)} />
          <label className="mb-1 block text-sm font-medium" htmlFor={`a-${faq.id}`}>Answer</label>
          <textarea id={`a-${faq.id}`} rows={6} className={`${inputClass} mb-2`} value={answer} onChange={(e) => setAnswer(e.target.value)} />
        </>
      ) : (
        <>
          <h3 className="font-medium">{faq.question}</h3>
          <p className="mt-1 whitespace-pre-wrap text-sm text-slate-800">{faq.answer}</p>
        </>
      )}
      <ErrorNote error={error} />
      <div className="mt-3 flex gap-2">
        {editing ? (
          <Button onClick={() => void act(api(`/api/faqs/${faq.id}${ws}`, { method: "PATCH", json: { question, answer } }))}>Save</Button>
        ) : (
          <Button variant="secondary" onClick={() => setEditing(true)}>Edit</Button>
        )}
        {faq.status !== "approved" && (
          <Button aria-label={`Approve: ${faq.question}`} onClick={() => void act(api(`/api/faqs/${faq.id}/approve${ws}`, { method: "POST" }))}>
            Approve
          </Button>
        )}
        {faq.status !== "rejected" && (
          <Button variant="danger" aria-label={`Reject: ${faq.question}`} onClick={() => void act(api(`/api/faqs/${faq.id}/reject${ws}`, { method: "POST" }))}>
            Reject
          </Button>
        )}
      </div>
    </Card>
  );
}

export function Faqs() {
  const [workspace, setWorkspace] = useState("default");
  const [status, setStatus] = useState("draft");
  const [faqs, setFaqs] = useState<Faq[] | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    const params = new URLSearchParams({ workspace, ...(status ? { status } : {}) });
    api<{ faqs: Faq[] }>(`/api/faqs?${params}`).then((body) => setFaqs(body.faqs)).catch(setError);
  }, [workspace, status]);
  useEffect(load, [load]);

  async function generate() {
    setError(null);
    try {
      const { url } = await api<{ url: string }>("/api/faqs/generate", { method: "POST", json: { workspace } });
      const last = await poll(() => api<Job>(url), (j) => ["finished", "failed"].includes(j.status), setJob);
      if (last.status === "failed") setError(new Error(`FAQ generation failed: ${last.error}`));
      load();
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <>
      <PageHeader title="FAQs">
        <WorkspacePicker value={workspace} onChange={setWorkspace} />
        <Button onClick={() => void generate()}>Draft FAQs from questions</Button>
        <a
          className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
          href={`/api/faqs/export?${new URLSearchParams({ workspace })}`}
          download
        >
          Export approved (Markdown)
        </a>
      </PageHeader>
      <div className="mb-4 flex items-center gap-3">
        <label htmlFor="faq-status" className="text-sm font-medium text-slate-700">Show</label>
        <select id="faq-status" className={`${inputClass} w-auto`} value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="draft">drafts to review</option>
          <option value="approved">approved</option>
          <option value="rejected">rejected</option>
          <option value="">all</option>
        </select>
        {job && <span aria-live="polite" className="text-sm"><StatusBadge status={job.status} /> {job.result?.summary}</span>}
      </div>
      <ErrorNote error={error} />
      {status === "approved" && faqs && faqs.length > 0 && (
        <div className="mb-4">
          <ProposeButton kind="faq" body={{ workspace }} />
          <p className="mt-1 text-xs text-slate-600">
            Opens a pull request on the docs repository with these FAQs as its FAQ file, grouped by topic; proposing again
            updates it.
          </p>
        </div>
      )}
      {faqs && faqs.length === 0 ? (
        <EmptyState title={status === "draft" ? "No drafts to review" : "No FAQs here"}>
          FAQs are drafted from the questions people ask: once a question was asked by two people (or answered unsurely),
          press “Draft FAQs from questions”. Approved FAQs answer close questions at once, with no model call.
        </EmptyState>
      ) : (
        <div className="grid gap-4">{faqs?.map((faq) => <FaqCard key={faq.id} faq={faq} workspace={workspace} onChange={load} />)}</div>
      )}
    </>
  );
}
