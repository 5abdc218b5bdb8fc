// Get-or-create on plain records (results are plain JSON objects, not Maps).

export function slot<K extends string, V>(record: Partial<Record<K, V>>, key: K, make: () => V): V {
  const existing = record[key];
  if (existing !== undefined) return existing;
  const created = make();
  record[key] = created;
  return created;
}
