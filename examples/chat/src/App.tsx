import { useChat } from '@ai-sdk/react';
import {
  DefaultChatTransport,
  lastAssistantMessageIsCompleteWithApprovalResponses,
  type UIMessage,
} from 'ai';
import { useEffect, useState, type FormEvent } from 'react';

/** The visitor's API token (see server.ts); a real app gets one when the user signs in. */
const TOKEN = 'chat-visitor-token-0123456789';
const headers = { authorization: `Bearer ${TOKEN}` };

/** Starts a conversation (a run) unless the address names one (`?run=<id>`), which survives a reload. */
export function App() {
  const [runId, setRunId] = useState(() => new URLSearchParams(location.search).get('run') ?? undefined);
  useEffect(() => {
    if (runId) return;
    void fetch('/demo/conversations', { method: 'POST' })
      .then((response) => response.json() as Promise<{ runId: string }>)
      .then(({ runId: started }) => {
        history.replaceState(null, '', `?run=${started}`);
        setRunId(started);
      });
  }, [runId]);
  return runId ? <Chat runId={runId} /> : <p>Starting a conversation…</p>;
}

function Chat({ runId }: { runId: string }) {
  const [draft, setDraft] = useState('');
  const { messages, sendMessage, status, error, addToolApprovalResponse } = useChat({
    id: runId,
    // After a reload, the answer in progress is resumed from the run's stream.
    resume: true,
    transport: new DefaultChatTransport({ api: '/api/chat', headers }),
    // An approval answered is sent at once: the run goes on with the call approved or denied.
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim()) return;
    void sendMessage({ text: draft });
    setDraft('');
  };
  return (
    <main style={{ maxWidth: 640, margin: '2rem auto', fontFamily: 'system-ui, sans-serif' }}>
      <h1>Billing desk</h1>
      <p data-testid="run">Run {runId}</p>
      <ol aria-label="Conversation" style={{ listStyle: 'none', padding: 0 }}>
        {messages.map((message) => (
          <Message
            key={message.id}
            message={message}
            onApproval={(id, approved) => void addToolApprovalResponse({ id, approved })}
          />
        ))}
      </ol>
      {error ? <p role="alert">{error.message}</p> : null}
      <form onSubmit={submit}>
        <label>
          Message{' '}
          <input
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            disabled={status !== 'ready'}
          />
        </label>{' '}
        <button type="submit" disabled={status !== 'ready'}>
          Send
        </button>
      </form>
      <p data-testid="status">{status}</p>
    </main>
  );
}

function Message({
  message,
  onApproval,
}: {
  message: UIMessage;
  onApproval: (id: string, approved: boolean) => void;
}) {
  return (
    <li data-role={message.role} style={{ margin: '0.75rem 0' }}>
      <strong>{message.role === 'user' ? 'You' : 'Desk'}: </strong>
      {message.parts.map((part, index) => {
        if (part.type === 'text')
          return (
            <span key={index} data-testid="text">
              {part.text}
            </span>
          );
        if (!part.type.startsWith('tool-') || !('toolCallId' in part)) return null;
        return (
          <div
            key={index}
            data-testid="tool"
            data-state={part.state}
            style={{ border: '1px solid #999', padding: '0.5rem' }}
          >
            <code>{part.type.slice('tool-'.length)}</code> <code>{JSON.stringify(part.input)}</code> —{' '}
            {part.state}
            {part.state === 'approval-requested' ? (
              <span>
                {' '}
                <button onClick={() => onApproval(part.approval.id, true)}>Approve</button>{' '}
                <button onClick={() => onApproval(part.approval.id, false)}>Deny</button>
              </span>
            ) : null}
            {part.state === 'output-available' ? (
              <pre data-testid="output">{JSON.stringify(part.output)}</pre>
            ) : null}
          </div>
        );
      })}
    </li>
  );
}
