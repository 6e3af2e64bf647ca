import ReactMarkdown from "react-markdown";

/** A reply's Markdown (what Slack and Discord render too), without raw HTML. */
export function Markdown({ text }: { text: string }) {
  return (
    <div className="space-y-2 text-sm">
      <ReactMarkdown
        components={{
          a: ({ children, href }) => <a className="text-indigo-700 underline" href={href}>{children}</a>,
          ul: ({ children }) => <ul className="list-disc pl-5">{children}</ul>,
          ol: ({ children }) => <ol className="list-decimal pl-5">{children}</ol>,
          pre: ({ children }) => <pre className="overflow-x-auto rounded bg-slate-100 p-2">{children}</pre>,
          code: ({ children }) => <code className="font-mono text-[0.85em]">{children}</code>,
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
