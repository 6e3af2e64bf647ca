import type { ReactNode } from "react";
import { inputClass } from "./ui";

/** A channel's support-desk settings as GET /api/channels/<platform> gives them. */
export interface DeskSettings {
  mode: Mode;
  threshold: number | null;
  unsure_reaction: string | null;
  review_channel: string | null;
  people: string[];
  follow_up_minutes: number | null;
  follow_up_dms: boolean;
}

type Mode = "mention" | "auto" | "draft";

/** The same settings as the form holds them: what the admin typed. */
export interface DeskForm {
  mode: Mode;
  threshold: string;
  unsure_reaction: string;
  review_channel: string;
  people: string;
  follow_up_minutes: string;
  follow_up_dms: boolean;
}

const MODES: { value: Mode; label: string; summary: string; explained: string }[] = [
  { value: "mention", label: "Mentions", summary: "answers mentions only",
    explained: "Answers only what is addressed to the bot: mentions, DMs and commands." },
  { value: "auto", label: "Auto", summary: "answers unasked questions when sure",
    explained: "Also answers questions nobody tagged the bot in, when sure enough; otherwise posts nothing." },
  { value: "draft", label: "Draft", summary: "drafts answers for review",
    explained: "Answers questions nobody tagged the bot in as drafts, for a person to publish or dismiss on Support." },
];

const PEOPLE_HINTS: Record<string, string> = {
  slack: "Slack user group ids (S0123ABCD) or user ids (U0123ABCD), separated by commas",
  discord: "role:<role id> or user:<user id>, separated by commas (Developer Mode → right-click → Copy ID)",
};

export function deskForm(settings: DeskSettings): DeskForm {
  return {
    mode: settings.mode,
    threshold: settings.threshold === null ? "" : String(settings.threshold),
    unsure_reaction: settings.unsure_reaction ?? "",
    review_channel: settings.review_channel ?? "",
    people: settings.people.join(", "),
    follow_up_minutes: settings.follow_up_minutes === null ? "" : String(settings.follow_up_minutes),
    follow_up_dms: settings.follow_up_dms,
  };
}

/** The PUT body's support-desk part. A setting of another mode is left out, so it keeps its
 * stored value (and is not checked with the platform) until that mode is chosen again. */
export function deskChanges(form: DeskForm): Record<string, unknown> {
  const text = (value: string) => value.trim() || null;
  const number = (value: string) => (value.trim() ? Number(value) : null);
  const people = form.people.split(/[\s,]+/).filter(Boolean);
  return {
    mode: form.mode,
    ...(form.mode === "auto" && { threshold: number(form.threshold), unsure_reaction: text(form.unsure_reaction) }),
    ...(form.mode === "draft" && { review_channel: text(form.review_channel) }),
    people: people.length ? people : null,
    follow_up_minutes: number(form.follow_up_minutes),
    follow_up_dms: form.follow_up_dms,
  };
}

/** The support-desk part of a channel's row: its answer mode, and the settings that apply to it. */
export function SupportDesk({ platform, channel, form, onChange }: {
  platform: string; channel: string; form: DeskForm; onChange: (form: DeskForm) => void;
}) {
  const id = `${platform}-${channel}-desk`;
  const set = (change: Partial<DeskForm>) => onChange({ ...form, ...change });
  const mode = MODES.find((m) => m.value === form.mode) ?? MODES[0];
  return (
    <details className="mb-2 text-sm">
      <summary className="cursor-pointer text-indigo-700">
        Support desk in {channel}: <span className="text-slate-700">{mode.summary}</span>
      </summary>
      <div className="mt-2 grid gap-4 rounded border border-slate-200 bg-slate-50 p-3 lg:grid-cols-2">
        <fieldset>
          <legend className="mb-1 font-medium text-slate-700">Answer mode in {channel}</legend>
          {MODES.map((option) => (
            <label key={option.value} className="mb-1 flex items-start gap-2">
              <input type="radio" name={`${id}-mode`} value={option.value} className="mt-1"
                     checked={form.mode === option.value} aria-describedby={`${id}-${option.value}`}
                     onChange={() => set({ mode: option.value })} />
              <span>
                {option.label}
                <span id={`${id}-${option.value}`} className="block text-xs text-slate-600">{option.explained}</span>
              </span>
            </label>
          ))}
          {platform === "discord" && (
            <p className="text-xs text-slate-600">
              Auto and draft need the gateway bot (<code>morningai discord</code>), which reads the channel; a forum's
              new posts count as questions.
            </p>
          )}
        </fieldset>
        <div className="grid content-start gap-3 sm:grid-cols-2">
          {form.mode === "auto" && (
            <>
              <DeskField id={`${id}-threshold`} label="Confidence needed"
                         hint="From 0 to 1. Empty: the default calibrated for the workspace's embedder.">
                <input id={`${id}-threshold`} type="number" min={0} max={1} step={0.05} placeholder="calibrated"
                       className={inputClass} value={form.threshold} aria-describedby={`${id}-threshold-hint`}
                       onChange={(e) => set({ threshold: e.target.value })} />
              </DeskField>
              <DeskField id={`${id}-reaction`} label="Reaction when unsure"
                         hint="An emoji name like thinking_face. Empty: stay silent.">
                <input id={`${id}-reaction`} className={inputClass} value={form.unsure_reaction} placeholder="thinking_face"
                       aria-describedby={`${id}-reaction-hint`} onChange={(e) => set({ unsure_reaction: e.target.value })} />
              </DeskField>
            </>
          )}
          {form.mode === "draft" && (
            <DeskField id={`${id}-review`} label="Review channel"
                       hint="A channel id drafts are posted in, with Publish and Dismiss; invite the bot there first. Empty: drafts wait on the Support page only.">
              <input id={`${id}-review`} className={inputClass} value={form.review_channel}
                     aria-describedby={`${id}-review-hint`} onChange={(e) => set({ review_channel: e.target.value })} />
            </DeskField>
          )}
          <DeskField id={`${id}-people`} label="People to ask"
                     hint={`${PEOPLE_HINTS[platform]}: “Ask a person” calls them to the thread. Empty: nobody is called.`}>
            <input id={`${id}-people`} className={inputClass} value={form.people}
                   aria-describedby={`${id}-people-hint`} onChange={(e) => set({ people: e.target.value })} />
          </DeskField>
          <DeskField id={`${id}-follow-up`} label="Ask if it helped after (minutes)"
                     hint="Once, when nobody reacted to the answer; 1 to 10080 (a week). Empty: never.">
            <input id={`${id}-follow-up`} type="number" min={1} max={10080} step={1} placeholder="never"
                   className={inputClass} value={form.follow_up_minutes} aria-describedby={`${id}-follow-up-hint`}
                   onChange={(e) => set({ follow_up_minutes: e.target.value })} />
          </DeskField>
          {form.follow_up_minutes.trim() !== "" && (
            <label className="flex items-center gap-2 sm:col-span-2">
              <input type="checkbox" checked={form.follow_up_dms} onChange={(e) => set({ follow_up_dms: e.target.checked })} />
              Also ask after answers in DMs
            </label>
          )}
        </div>
      </div>
    </details>
  );
}

function DeskField({ id, label, hint, children }: { id: string; label: string; hint: string; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={id} className="mb-1 block font-medium text-slate-700">{label}</label>
      {children}
      <p id={`${id}-hint`} className="mt-1 text-xs text-slate-600">{hint}</p>
    </div>
  );
}
