import { createRoot } from 'react-dom/client';

createRoot(document.getElementById('root')!).render(<h1>SolaceLive viewer</h1>);
