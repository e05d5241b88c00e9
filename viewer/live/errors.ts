// An error the page shows as is: `title` says what failed, the message what to do about it.
export class LiveError extends Error {
  readonly title: string;
  constructor(title: string, detail: string) {
    super(detail);
    this.name = 'LiveError';
    this.title = title;
  }
}
