// TEST-ONLY preload for an engine worker (EngineHost's testPreload), imported as
// `slow-steps.ts?ms=N`: every model step sleeps N ms first, as the bench runner's injected
// sleep does (bench/lib/inject.ts), so a test overloads the server by a known amount
// whatever the machine's speed. Never imported by the test process itself.
import { applyInjectedSleep } from '../../../bench/lib/inject.ts';

applyInjectedSleep({ span: 'lm.temporal', ms: Number(new URL(import.meta.url).searchParams.get('ms')) });
