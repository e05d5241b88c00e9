import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { parseConfig, DEFAULT_SERVER, type LiveConfig } from './config.ts';
import { LiveError } from './errors.ts';
import { LiveSession } from './session.ts';
import { Banner } from './ui/Banner.tsx';
import './live.css';

const root = createRoot(document.getElementById('root')!);
let config: LiveConfig | null = null;
try {
  config = parseConfig(window.location.search);
} catch (err) {
  const e = err as LiveError;
  root.render(<main><h1>SolaceLive — live</h1><Banner kind="error" problem={{ title: e.title, detail: `${e.message} Example: ?server=${DEFAULT_SERVER}` }} /></main>);
}
if (config) root.render(<App config={config} session={new LiveSession()} />);
