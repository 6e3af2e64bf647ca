import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api } from "../api";
import { deskChanges, deskForm, SupportDesk, type DeskSettings } from "./SupportDesk";
import { Button, EmptyState, ErrorNote, HeadWithActions, Table, inputClass } from "./ui";

export const KINDS = ["ask", "code", "docs", "faq", "help"];

export interface Channel extends DeskSettings {
  channel: string;
  enabled: boolean;
  follow_ups: boolean;
  sources: string[] | null;
  kinds: string[] | null;
  custom: boolean;
  workspace: string | null;
  last_task_at: string | null;
}

interface Source {
  id: string;
  location: string;
}

const PLATFORM_NAMES: Record<string, string> = { slack: "Slack", discord: "Discord" };
const ID_HINTS: Record<string, string> = {
  slack: "like C0123ABCD: open the channel's details, the id is at the bottom",
  discord: "turn on Developer Mode, then right-click the channel → Copy Channel ID",
};

/** One platform's channels: every setting editable in its row, saved together. */
export function ChannelSettings({ platform }: { platform: string }) {
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [sources, setSources] = useState<Record<string, Source[]>>({});
  const [adding, setAdding] = useState("");
  const [error, setError] = useState<unknown>(null);
  const name = PLATFORM_NAMES[platform];

  const load = useCallback(async () => {
    try {
      const body = await api<{ channels: Channel[] }>(`/api/channels/${platform}`);
      setChannels(body.channels);
      // `default` too: a channel added here is answered from it until asked from a mapped team or guild.
      const wanted = [...new Set(["default", ...body.channels.map((c) => c.workspace ?? "default")])];
      const lists = await Promise.all(wanted.map((workspace) =>
        api<{ sources: Source[] }>(`/api/knowledge/sources?workspace=${encodeURIComponent(workspace)}`)
          .then((b) => [workspace, b.sources] as const)
          .catch(() => [workspace, []] as const)));
      setSources(Object.fromEntries(lists));
    } catch (caught) {
      setError(caught);
    }
  }, [platform]);

  useEffect(() => void load(), [load]);

  function add(event: FormEvent) {
    event.preventDefault();
    const id = adding.trim();
    if (!id || channels?.some((c) => c.channel === id)) return;
    // Shown with the defaults until it is saved: nothing is stored for it yet.
    setChannels([...(channels ?? []), { channel: id, enabled: true, follow_ups: false, sources: null, kinds: null,
                                        mode: "mention", threshold: null, unsure_reaction: null, review_channel: null,
                                        people: [], follow_up_minutes: null, follow_up_dms: false,
                                        custom: false, workspace: null, last_task_at: null }]);
    setAdding("");
  }

  return (
    <div>
      <ErrorNote error={error} />
      {channels === null ? (
        <p>Loading…</p>
      ) : channels.length === 0 ? (
        <EmptyState title={`No ${name} channels yet`}>
          Every channel answers mentions, from every source, for every kind of request. Mention the bot in a
          channel and it shows up here; or add a channel by its id below to set it up first.
        </EmptyState>
      ) : (
        <Table>
          <caption className="sr-only">{name} channel settings</caption>
          <HeadWithActions columns={["Channel", "Answers", "Replies", "Knowledge sources", "Kinds"]} />
          <tbody>
            {channels.map((channel) => (
              <ChannelRow key={channel.channel} platform={platform} channel={channel}
                          sources={sources[channel.workspace ?? "default"] ?? []} onSaved={load} />
            ))}
          </tbody>
        </Table>
      )}
      <form onSubmit={add} className="mt-3 flex flex-wrap items-end gap-2">
        <label className="text-sm">
          <span className="mb-1 block font-medium text-slate-700">Add a {name} channel by id</span>
          <input className={`${inputClass} w-64`} value={adding} onChange={(e) => setAdding(e.target.value)}
                 aria-describedby={`${platform}-id-hint`} />
        </label>
        <Button type="submit" variant="secondary">Add channel</Button>
        <p id={`${platform}-id-hint`} className="w-full text-xs text-slate-600">{ID_HINTS[platform]}</p>
      </form>
    </div>
  );
}

function ChannelRow({ platform, channel, sources, onSaved }: {
  platform: string; channel: Channel; sources: Source[]; onSaved: () => Promise<void>;
}) {
  const [draft, setDraft] = useState(channel);
  const [desk, setDesk] = useState(() => deskForm(channel));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    setDraft(channel);
    setDesk(deskForm(channel));
  }, [channel]);
  const id = `${platform}-${channel.channel}`;
  const kinds = draft.kinds ?? KINDS;

  function toggleKind(kind: string) {
    const next = kinds.includes(kind) ? kinds.filter((k) => k !== kind) : KINDS.filter((k) => k === kind || kinds.includes(k));
    setDraft({ ...draft, kinds: next.length === KINDS.length ? null : next });
  }

  async function save() {
    setError(null);
    setSaved(false);
    if (draft.kinds?.length === 0) {
      setError(new Error("Choose at least one kind, or switch the channel off."));
      return;
    }
    if (draft.sources?.length === 0) {
      setError(new Error("Choose at least one source, or tick “All sources”."));
      return;
    }
    try {
      await api(`/api/channels/${platform}/${encodeURIComponent(channel.channel)}`, {
        method: "PUT",
        json: { enabled: draft.enabled, follow_ups: draft.follow_ups, sources: draft.sources, kinds: draft.kinds,
                ...deskChanges(desk) },
      });
      setSaved(true);
      await onSaved();
    } catch (caught) {
      setError(caught);
    }
  }

  async function reset() {
    if (!window.confirm(`Put ${channel.channel} back to the defaults?`)) return;
    try {
      await api(`/api/channels/${platform}/${encodeURIComponent(channel.channel)}`, { method: "DELETE" });
      await onSaved();
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <>
      <tr className="align-top">
        <th scope="row" className="py-2 pr-3 font-mono font-normal">
          {channel.channel}
          <span className="block font-sans text-xs text-slate-600">
            {channel.workspace ? `workspace ${channel.workspace}` : "not asked yet"}
          </span>
        </th>
        <td className="py-2 pr-3">
          <label className="flex items-center gap-1">
            <input type="checkbox" checked={draft.enabled} aria-label={`Enabled in ${channel.channel}`}
                   onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })} />
            Enabled
          </label>
        </td>
        <td className="py-2 pr-3">
          <label htmlFor={`${id}-replies`} className="sr-only">Replies in {channel.channel}</label>
          <select id={`${id}-replies`} className={`${inputClass} w-auto`} value={draft.follow_ups ? "threads" : "mentions"}
                  onChange={(e) => setDraft({ ...draft, follow_ups: e.target.value === "threads" })}>
            <option value="mentions">Mentions only</option>
            <option value="threads">Mentions and thread follow-ups</option>
          </select>
        </td>
        <td className="py-2 pr-3">
          <label className="flex items-center gap-1">
            <input type="checkbox" checked={draft.sources === null} aria-label={`All sources in ${channel.channel}`}
                   onChange={(e) => setDraft({ ...draft, sources: e.target.checked ? null : sources.map((s) => s.id) })} />
            All sources
          </label>
          {draft.sources !== null && (
            sources.length === 0 ? (
              <p className="text-xs text-slate-600">This workspace has no sources yet: add some on Knowledge.</p>
            ) : (
              <>
                <label htmlFor={`${id}-sources`} className="sr-only">Sources for {channel.channel}</label>
                <select id={`${id}-sources`} multiple className={`${inputClass} mt-1`} value={draft.sources}
                        onChange={(e) => setDraft({ ...draft, sources: Array.from(e.target.selectedOptions, (o) => o.value) })}>
                  {sources.map((source) => <option key={source.id} value={source.id}>{source.location}</option>)}
                </select>
              </>
            )
          )}
        </td>
        <td className="py-2 pr-3">
          <fieldset>
            <legend className="sr-only">Kinds taken in {channel.channel}</legend>
            {KINDS.map((kind) => (
              <label key={kind} className="mr-2 inline-flex items-center gap-1">
                <input type="checkbox" checked={kinds.includes(kind)} onChange={() => toggleKind(kind)} />
                {kind}
              </label>
            ))}
          </fieldset>
        </td>
        <td className="py-2">
          <div className="flex gap-2">
            <Button onClick={() => void save()} aria-label={`Save ${channel.channel}`}>Save</Button>
            {channel.custom && (
              <Button variant="secondary" onClick={() => void reset()} aria-label={`Reset ${channel.channel}`}>Reset</Button>
            )}
          </div>
          <div aria-live="polite" className="text-xs">{saved && "Saved"}</div>
        </td>
      </tr>
      <tr className="border-b border-slate-100">
        <td colSpan={6}>
          {/* Under the whole row, so a long refusal does not squeeze its columns. */}
          <ErrorNote error={error} />
          <SupportDesk platform={platform} channel={channel.channel} form={desk} onChange={setDesk} />
        </td>
      </tr>
    </>
  );
}
