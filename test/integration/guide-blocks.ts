// SPDX-License-Identifier: Apache-2.0
/** Reads the runnable shell blocks of a Markdown guide (pure). */

/** The sh blocks under one `###` heading of a runnable section. */
export interface GuideStep {
  /** The `##` heading above the step. */
  section: string;
  /** The `###` heading of the step. */
  step: string;
  /** The contents of its ```sh blocks, in order. */
  blocks: string[];
}

/**
 * The steps between `<!-- <marker> begin` and `<!-- <marker> end -->`, in document order; steps without an sh block
 * are left out. Only ```sh blocks count; ```text and the like are prose.
 * @throws Error when the markers are missing, or an sh block is not closed.
 */
export function guideSteps(markdown: string, marker: string): GuideStep[] {
  const begin = markdown.indexOf(`<!-- ${marker} begin`);
  const end = markdown.indexOf(`<!-- ${marker} end -->`);
  if (begin < 0 || end < begin) throw new Error(`the guide has no section marked <!-- ${marker} begin ... end -->`);
  const lines = markdown.slice(begin, end).split('\n');
  const steps: GuideStep[] = [];
  let section = '';
  let step: GuideStep | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) {
      section = line.slice(3).trim();
      step = undefined;
    } else if (line.startsWith('### ')) {
      step = { section, step: line.slice(4).trim(), blocks: [] };
      steps.push(step);
    } else if (line.trim() === '```sh') {
      const close = lines.findIndex((l, j) => j > i && l.trim() === '```');
      if (close < 0) throw new Error(`an sh block at line ${i + 1} of the marked section is not closed`);
      if (!step) throw new Error(`an sh block at line ${i + 1} of the marked section is under no ### heading`);
      step.blocks.push(lines.slice(i + 1, close).join('\n'));
      i = close;
    }
  }
  return steps.filter((s) => s.blocks.length > 0);
}
