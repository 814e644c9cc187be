/**
 * A small line-based unified diff (LCS), enough for transcripts of a few
 * dozen lines; no dependency needed for that.
 */
export function unifiedDiff(a: string[], b: string[], labelA: string, labelB: string, context = 2): string[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  // aBefore/bBefore: lines of a/b preceding this op, for the hunk header.
  type Op = { tag: " " | "-" | "+"; text: string; aBefore: number; bBefore: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    const at = { aBefore: i, bBefore: j };
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ tag: " ", text: a[i]!, ...at });
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ tag: "+", text: b[j++]!, ...at });
    else ops.push({ tag: "-", text: a[i++]!, ...at });
  }
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.tag === " ") {
      k++;
      continue;
    }
    // Grow a hunk around consecutive changes separated by at most 2*context unchanged lines.
    let start = Math.max(0, k - context);
    let end = k;
    while (end < ops.length) {
      let next = end;
      while (next < ops.length && ops[next]!.tag === " ") next++;
      if (next >= ops.length || next - end > 2 * context) break;
      end = next;
      while (end < ops.length && ops[end]!.tag !== " ") end++;
    }
    const stop = Math.min(ops.length, end + context);
    out.push(`@@ -${ops[start]!.aBefore + 1} +${ops[start]!.bBefore + 1} @@`);
    for (; start < stop; start++) out.push(`${ops[start]!.tag}${ops[start]!.text}`);
    k = stop;
  }
  return out;
}
