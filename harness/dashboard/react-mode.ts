// React picks its development or production build from NODE_ENV when first imported. The
// development build checks every element and costs the dashboard process several times
// the CPU (measured with bench/dash-overhead.ts), on a machine whose cores the server needs:
// commands that show a dashboard call this before they import Ink. An explicit NODE_ENV wins.
export function useProductionReact(): void {
  process.env.NODE_ENV ??= 'production';
}
