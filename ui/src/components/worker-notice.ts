import { useEffect, useState } from 'react';
import { api } from '../api.ts';

/**
 * After an action that needs a worker (start, cancel, resume, fork), asks whether any worker is
 * connected and, when none is, says what will wait for one. Answers nothing when the store keeps
 * no worker list or the question fails: only a known absence is reported.
 */
export function useWorkerNotice(): { notice: string | undefined; check: (what: string) => Promise<void> } {
  const [notice, setNotice] = useState<string | undefined>();
  const check = async (what: string) => {
    setNotice(undefined);
    try {
      const list = await api.workers();
      if (list.tracked && list.connected === 0)
        setNotice(`No worker is running: ${what} when one starts (baton worker, or baton server --worker).`);
    } catch {
      // The action itself succeeded; an unknown worker state is not worth an error.
    }
  };
  return { notice, check };
}

/**
 * Whether no worker is running, asked every few seconds while `watching` (a run that needs one:
 * pending, running, waiting, or asked to cancel). False when unknown.
 */
export function useNoWorker(watching: boolean): boolean {
  const [none, setNone] = useState(false);
  useEffect(() => {
    setNone(false);
    if (!watching) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = () => {
      api.workers(controller.signal).then(
        (list) => setNone(list.tracked && list.connected === 0),
        () => undefined,
      );
      timer = setTimeout(ask, 5000);
    };
    ask();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [watching]);
  return none;
}
