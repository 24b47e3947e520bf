// cache-domain is grouped by slice (libs/cache-domain/src/lib/<slice>/). A slice may import only the slices listed
// here, so each reads on its own and no cycle can form between them; errors.ts and shared/ are for every slice.
// Changing an arrow is a design decision: change it here, where the reviewer sees it.
import { dirname, relative, resolve, sep } from 'node:path';

/** Which slices each slice may import (besides itself). */
export const SLICE_IMPORTS = {
  shared: [],
  webhooks: ['shared'],
  refresh: ['shared'],
  sync: ['shared', 'webhooks'],
  changes: ['shared', 'refresh'],
  query: ['shared'],
  audit: ['shared', 'refresh'],
};

const LIB = resolve(import.meta.dirname, '..', '..', 'libs', 'cache-domain', 'src', 'lib');

/** The slice a path lies in, '' for a file directly in lib/ (errors.ts), undefined outside lib/. */
const sliceOf = (path) => {
  const inLib = relative(LIB, path);
  if (inLib.startsWith('..') || inLib === '') return undefined;
  const parts = inLib.split(sep);
  return parts.length === 1 ? '' : parts[0];
};

const sliceImports = {
  meta: {
    type: 'problem',
    docs: { description: 'cache-domain slices import only the slices SLICE_IMPORTS allows' },
    schema: [],
    messages: {
      unknownSlice: "'{{slice}}' is not a known cache-domain slice: add it to SLICE_IMPORTS in tools/eslint/cache-domain-slices.mjs.",
      forbidden: 'The {{from}} slice may not import the {{to}} slice (allowed: {{allowed}}); see tools/eslint/cache-domain-slices.mjs.',
    },
  },
  create(context) {
    const from = sliceOf(context.filename);
    if (from === undefined || from === '') return {};
    const allowed = SLICE_IMPORTS[from];
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = sliceOf(resolve(dirname(context.filename), source));
      if (to === undefined || to === '' || to === from) return;
      if (allowed === undefined) context.report({ node, messageId: 'unknownSlice', data: { slice: from } });
      else if (!allowed.includes(to)) {
        context.report({ node, messageId: 'forbidden', data: { from, to, allowed: allowed.join(', ') || 'none' } });
      }
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export const cacheDomainSlices = { rules: { 'slice-imports': sliceImports } };
