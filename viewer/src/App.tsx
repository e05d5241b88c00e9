// Routes (in the hash, so the view server needs no client-side routing): #/ the sessions
// list, #/s/NAME a session from the server, #/local/N a session opened from disk. A folder
// or .zip dropped anywhere on the page opens without the server.
import { useEffect, useMemo, useState } from 'react';
import type { SessionListEntry } from '../../harness/view/list-entry.ts';
import { SessionPage, type SessionSource } from './components/SessionPage.tsx';
import { SessionsList } from './components/SessionsList.tsx';
import { sessionsFromDrop, sessionsFromPicked, type LocalSession } from './data/drop.ts';
import { fetchProxyFile, fetchResults, fetchSessionList, httpSessionFiles } from './data/http-files.ts';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

export function App() {
  const hash = useHash();
  const [list, setList] = useState<SessionListEntry[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [local, setLocal] = useState<LocalSession[]>([]);
  const [dropError, setDropError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    if (hash.startsWith('#/s/') || hash.startsWith('#/local/')) return;
    fetchSessionList().then(setList, (e: Error) => setListError(e.message));
  }, [hash]);

  const open = async (p: Promise<LocalSession[]>) => {
    setDropError(null);
    try {
      const found = await p;
      if (found.length === 0) throw new Error('no session files in what was dropped (a session folder holds manifest.json, steps.jsonl, packets.bin, input.wav, output.wav)');
      const base = local.length;
      setLocal((l) => [...l, ...found]);
      location.hash = `#/local/${base}`;
    } catch (err) {
      setDropError((err as Error).message);
    }
  };

  useEffect(() => {
    const over = (e: DragEvent) => {
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      if (e.dataTransfer) void open(sessionsFromDrop(e.dataTransfer));
    };
    addEventListener('dragover', over);
    addEventListener('dragleave', leave);
    addEventListener('drop', drop);
    return () => {
      removeEventListener('dragover', over);
      removeEventListener('dragleave', leave);
      removeEventListener('drop', drop);
    };
  });

  const source: SessionSource | null = useMemo(() => {
    if (hash.startsWith('#/s/')) {
      const name = decodeURIComponent(hash.slice(4));
      return { name, files: httpSessionFiles(name), results: () => fetchResults(name), figures: () => fetchProxyFile(name) };
    }
    if (hash.startsWith('#/local/')) {
      const l = local[Number(hash.slice(8))];
      return l ? { name: l.name, files: l.files, results: l.results, figures: l.figures } : null;
    }
    return null;
  }, [hash, local]);

  return (
    <div className={`app${dragging ? ' dragging' : ''}`}>
      <nav>
        <a href="#/"><b>SolaceLive viewer</b></a>
        <a href="live/">live page</a>
        <label className="pick">open folder… <input type="file" data-testid="pick-folder" {...{ webkitdirectory: '' }} multiple onChange={(e) => e.target.files && void open(sessionsFromPicked([...e.target.files]))} /></label>
        <label className="pick">open .zip… <input type="file" data-testid="pick-zip" accept=".zip" onChange={(e) => e.target.files && void open(sessionsFromPicked([...e.target.files]))} /></label>
        {local.length > 0 && <span className="muted">opened: {local.map((l, i) => <a key={i} href={`#/local/${i}`}>{l.name}</a>)}</span>}
        <span className="hint">or drop a session folder or .zip anywhere</span>
      </nav>
      {dropError && <div className="problems" data-testid="drop-error">{dropError}</div>}
      {source ? <SessionPage key={`${hash}`} source={source} />
        : hash.startsWith('#/local/') ? <p>That session was opened in an earlier visit of this page; open or drop it again.</p>
          : listError ? <p className="muted">No view server here ({listError}). Drop a session folder or .zip on the page to open it.</p>
            : list ? <SessionsList sessions={list} /> : <p>loading sessions…</p>}
    </div>
  );
}
