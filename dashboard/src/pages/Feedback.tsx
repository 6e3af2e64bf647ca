import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { api, type FeedbackItem } from "../api";
import { useSession } from "../auth";
import { Button, EmptyState, ErrorNote, PageHeader, inputClass } from "../components/ui";

const PAGE = 25;
const UNFILTERED = { reviewed: "false", vote: "", platform: "", since: "" };
const CHOICES: Record<string, [string, [string, string][]]> = {
  reviewed: ["Show", [["false", "to review"], ["true", "reviewed"], ["", "all"]]],
  vote: ["Votes", [["", "any"], ["down", "with a 👎 not helpful"], ["up", "with a 👍 helpful"]]],
  platform: ["Platform", [["", "any"], ["slack", "slack"], ["discord", "discord"]]],
};

/** The answers people voted on, 👎 first: read the question and the answer, open the task's
 * trace, and mark it reviewed to take it off the queue (until someone votes again). */
export function Feedback() {
  const { user } = useSession();
  const [filters, setFilters] = useState<Record<string, string>>(UNFILTERED);
  const [offset, setOffset] = useState(0);
  const [items, setItems] = useState<FeedbackItem[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    const params = new URLSearchParams(Object.entries(filters).filter(([, value]) => value));
    params.set("limit", String(PAGE));
    params.set("offset", String(offset));
    api<{ total: number; feedback: FeedbackItem[] }>(`/api/feedback?${params}`)
      .then((body) => {
        setItems(body.feedback);
        setTotal(body.total);
      })
      .catch(setError);
  }, [filters, offset]);
  useEffect(load, [load]);

  const set = (name: string) => (value: string) => {
    setOffset(0);
    setFilters((current) => ({ ...current, [name]: value }));
  };

  async function review(taskId: string) {
    setError(null);
    try {
      await api(`/api/feedback/${taskId}/review`, { method: "POST" });
      load();
    } catch (caught) {
      setError(caught);
    }
  }

  const filtered = Object.entries(filters).some(([name, value]) => value !== UNFILTERED[name as keyof typeof UNFILTERED]);
  return (
    <>
      <PageHeader title="Feedback" />
      <form className="mb-4 flex flex-wrap gap-3" role="search" aria-label="Filter feedback" onSubmit={(e) => e.preventDefault()}>
        {Object.entries(CHOICES).map(([name, [label, options]]) => (
          <label key={name} className="text-sm">
            <span className="mb-1 block font-medium text-slate-700">{label}</span>
            <select className={inputClass} value={filters[name]} onChange={(e) => set(name)(e.target.value)}>
              {options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
            </select>
          </label>
        ))}
        <label className="text-sm">
          <span className="mb-1 block font-medium text-slate-700">Voted since</span>
          <input type="date" className={inputClass} value={filters.since} onChange={(e) => set("since")(e.target.value)} />
        </label>
      </form>
      <ErrorNote error={error} />
      {items && items.length === 0 ? (
        filtered ? (
          <EmptyState title="No feedback matches these filters">
            <Button variant="secondary" onClick={() => { setOffset(0); setFilters(UNFILTERED); }}>Show what is left to review</Button>
          </EmptyState>
        ) : (
          <EmptyState title="No feedback to review">
            Every answer in Slack and Discord comes with 👍 Helpful and 👎 Not helpful buttons; when someone clicks one, the
            answer shows up here, the ones found not helpful first. Connect a platform on <Link className="text-indigo-700 underline" to="/integrations">Integrations</Link>,
            or look through all questions on <Link className="text-indigo-700 underline" to="/tasks">Tasks</Link>.
          </EmptyState>
        )
      ) : (
        <>
          <p className="mb-2 text-sm text-slate-600">{total} answer(s) with votes</p>
          <ul className="space-y-3" aria-label="Answers with votes">
            {items?.map((item) => (
              <li key={item.task_id} className={`rounded-lg border bg-white p-4 shadow-sm ${item.down > 0 ? "border-red-300" : "border-slate-200"}`}>
                <div className="mb-1 flex flex-wrap items-center gap-3 text-sm text-slate-700">
                  <span className={item.down > 0 ? "font-semibold text-red-800" : ""}>👎 {item.down} not helpful</span>
                  <span>👍 {item.up} helpful</span>
                  <span>{item.platform}{item.channel && ` · ${item.channel}`} · {item.workspace}</span>
                  <span>last vote {new Date(item.last_vote_at).toLocaleString()}</span>
                  {item.reviewed_at && <span className="text-green-800">reviewed {new Date(item.reviewed_at).toLocaleString()}</span>}
                </div>
                <Link className="font-medium text-indigo-700 underline" to={`/tasks/${item.task_id}`}>{item.question}</Link>
                <p className="mt-1 line-clamp-3 whitespace-pre-wrap text-sm text-slate-800">{item.answer ?? "(no answer stored)"}</p>
                {!item.reviewed_at && user?.role === "admin" && (
                  <Button variant="secondary" className="mt-2" aria-label={`Mark reviewed: ${item.question}`} onClick={() => void review(item.task_id)}>
                    Mark reviewed
                  </Button>
                )}
              </li>
            ))}
          </ul>
          {total > PAGE && (
            <nav aria-label="Pages" className="mt-4 flex items-center gap-3 text-sm">
              <Button variant="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</Button>
              <span>{offset + 1}–{Math.min(offset + PAGE, total)} of {total}</span>
              <Button variant="secondary" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>Next</Button>
            </nav>
          )}
        </>
      )}
    </>
  );
}
