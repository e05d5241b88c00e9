// React picks its development or production build from NODE_ENV when first imported. The
// development build adds checks to every element for no benefit to a user, and the dashboard
// shares the machine's cores with the server (measured in one run: ~7% less dashboard CPU
// with the production build; most of the rest is Ink turning each frame into cells), so
// commands that show a dashboard call this before they import Ink. An explicit NODE_ENV wins.
export function useProductionReact(): void {
  process.env.NODE_ENV ??= 'production';
}
