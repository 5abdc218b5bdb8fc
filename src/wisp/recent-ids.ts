/** A bounded memory of stream ids that were closed, oldest forgotten first. */
export class RecentIds {
  private readonly ids = new Set<number>();

  constructor(private readonly limit: number) {}

  add(id: number): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.limit) {
      const oldest = this.ids.values().next().value as number;
      this.ids.delete(oldest);
    }
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  delete(id: number): void {
    this.ids.delete(id);
  }
}
