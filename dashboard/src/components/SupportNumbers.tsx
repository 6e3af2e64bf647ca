import { Link } from "react-router-dom";
import { ProposeButton } from "./Proposals";

/** The support desk's numbers over the Overview's window (GET /api/analytics: `support`). */
export interface Support {
  questions: number;
  answered_automatically: number;
  published_drafts: number;
  awaiting_review: number;
  withheld: number;
  escalated: number;
  resolved: number;
  resolved_without_a_person: number;
  deflection_rate: number | null;
  median_first_answer_seconds: number | null;
  gaps: Gap[];
}

export interface Gap {
  title: string;
  questions: number;
  escalated: number;
  examples: string[];
  task_ids: string[];
}

const percent = (share: number | null) => (share == null ? "—" : `${Math.round(100 * share)}%`);
const wait = (seconds: number | null) =>
  seconds == null ? "—" : seconds < 60 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;

function Figure({ label, value, note }: { label: string; value: string | number; note?: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-600">{label}</dt>
      <dd className="text-xl font-semibold text-slate-900">{value}</dd>
      {note && <dd className="text-xs text-slate-600">{note}</dd>}
    </div>
  );
}

/** What the bot did on its own, what people took over, what got resolved. */
export function SupportFigures({ support }: { support: Support }) {
  return (
    <>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Figure label="Answered on its own" value={support.answered_automatically}
                note={`${support.published_drafts} drafts published`} />
        <Figure label="Handed to a person" value={support.escalated} />
        <Figure label="Resolved" value={support.resolved} note={`${support.resolved_without_a_person} without a person`} />
        <Figure label="Deflection rate" value={percent(support.deflection_rate)} note="resolved without a person" />
        <Figure label="Median first answer" value={wait(support.median_first_answer_seconds)} />
        <Figure label="Drafts waiting" value={support.awaiting_review} />
        <Figure label="Withheld (not sure)" value={support.withheld} />
      </dl>
      {(support.awaiting_review > 0 || support.escalated > 0) && (
        <p className="mt-3 text-sm">
          <Link className="text-indigo-700 underline" to="/support">Review drafts and hand-overs</Link>
        </p>
      )}
      <p className="mt-3 text-xs text-slate-600">
        <a className="text-indigo-700 underline" href="/api/analytics/support.csv?hours=24" download>Download as CSV</a>
      </p>
    </>
  );
}

/** Questions the knowledge served badly, grouped, each with the document that would answer them. */
export function CoverageGaps({ gaps }: { gaps: Gap[] }) {
  if (gaps.length === 0) {
    return (
      <p className="text-sm text-slate-600">
        No gaps in this window: every question was answered with confidence, and nobody asked for a person.
      </p>
    );
  }
  return (
    <>
      <ol className="space-y-2 text-sm">
        {gaps.map((gap) => (
          <li key={gap.title}>
            <p className="font-medium">Write: “{gap.title}”</p>
            <p className="text-slate-600">
              {gap.questions} question{gap.questions === 1 ? "" : "s"}
              {gap.escalated > 0 && `, ${gap.escalated} handed to a person`} · e.g. {gap.examples.slice(0, 2).join(" · ")}
            </p>
            <ProposeButton kind="gap" body={{ title: gap.title, task_ids: gap.task_ids }} name={`“${gap.title}”`} />
          </li>
        ))}
      </ol>
      <p className="mt-3 text-xs text-slate-600">
        Add the document on <Link className="text-indigo-700 underline" to="/knowledge">Knowledge</Link> ·{" "}
        <a className="text-indigo-700 underline" href="/api/analytics/gaps.csv?hours=24" download>Download as CSV</a>
      </p>
    </>
  );
}
