import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';

// Marks for test/e2e/viewer-load.ts: how much of opening a session is the page itself.
performance.mark('viewer-start');
createRoot(document.getElementById('root')!).render(<App />);
