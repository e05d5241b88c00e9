// An error the page shows as is: `title` says what failed, the message what to do about it.
export class LiveError extends Error {
  readonly title: string;
  constructor(title: string, detail: string) {
    super(detail);
    this.name = 'LiveError';
    this.title = title;
  }
}

/** The server answered the start with an error (no engine, full, bad handshake…), in either protocol. */
export class ServerRefusal extends LiveError {
  readonly code: string;
  readonly closeCode: number | null;
  constructor(m: { readonly code: string; readonly message: string }, closeCode: number | null) {
    super(`Server refused the session (${m.code})`, m.message);
    this.code = m.code;
    this.closeCode = closeCode;
  }
}
