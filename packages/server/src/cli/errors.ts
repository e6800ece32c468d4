/** An error whose message is meant for the person at the terminal, as is. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
