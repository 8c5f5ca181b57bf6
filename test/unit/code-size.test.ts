/**
 * Size limits of the source (issue 18): a file over 400 lines is doing two jobs, and a function over
 * 80 lines needs a reason in the comment right above it (or in its JSDoc) saying "long because ...".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['src', 'web/src', 'sdk/src'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    // generated files (npm run api-types) are read by the compiler, not by people
    else if (/\.tsx?$/.test(entry.name) && !/\.(d|gen)\.ts$/.test(entry.name)) out.push(rel);
  }
  return out;
}

/** A function worth measuring, with the name a reader would search for. */
function functionName(node: ts.Node): string | undefined {
  if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) return node.name?.getText() ?? '(anonymous)';
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (ts.isGetAccessor(node) || ts.isSetAccessor(node)) return node.name.getText();
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
    const parent = node.parent;
    if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
      return parent.name.getText();
  }
  return undefined;
}

/** The comments just above the statement that holds the function (its JSDoc or a line comment). */
function leadingComments(node: ts.Node, text: string): string {
  let holder: ts.Node = node;
  while (
    holder.parent &&
    (ts.isVariableDeclaration(holder.parent) ||
      ts.isVariableDeclarationList(holder.parent) ||
      ts.isVariableStatement(holder.parent) ||
      ts.isPropertyAssignment(holder.parent) ||
      ts.isPropertyDeclaration(holder.parent) ||
      ts.isExportAssignment(holder.parent)) &&
    holder.parent.getStart() === holder.getStart()
  ) {
    holder = holder.parent;
  }
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) holder = node.parent.parent ?? node.parent;
  if (ts.isVariableDeclarationList(holder)) holder = holder.parent;
  const ranges = ts.getLeadingCommentRanges(text, holder.getFullStart()) ?? [];
  return ranges.map((r) => text.slice(r.pos, r.end)).join('\n');
}

function findings(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE_LINES) out.push(`${file}: ${lines} lines (max ${MAX_FILE_LINES})`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const visit = (node: ts.Node) => {
    const name = functionName(node);
    if (name !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const length = last - first + 1;
      const reasoned = /long because/i.test(leadingComments(node, text));
      if (length > MAX_FUNCTION_LINES && !reasoned)
        out.push(`${file}:${first + 1}: function ${name} is ${length} lines (max ${MAX_FUNCTION_LINES} without a "long because" comment)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

test(`source files stay under ${MAX_FILE_LINES} lines and functions under ${MAX_FUNCTION_LINES}, or say why`, () => {
  const found = SOURCE_DIRS.flatMap(sourceFiles).flatMap(findings);
  assert.deepEqual(found, []);
});
