// The PromQL editor: CodeMirror 6 with codemirror-promql (highlighting, linting, and completion of
// functions, metric names, label names and values from our API under PREFIX). Enter runs the query
// (unless the completion list is open), Shift+Enter inserts a new line.
import { EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap, placeholder as placeholderExt, highlightSpecialChars, drawSelection } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintKeymap } from '@codemirror/lint';
import { highlightSelectionMatches } from '@codemirror/search';
import { tags } from '@lezer/highlight';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';
import { PREFIX } from '../api.js';

/** Completion caches (metric names, label values) live this long before being fetched again. */
const COMPLETION_CACHE_MS = 5 * 60 * 1000;

const highlight = HighlightStyle.define([
  { tag: tags.number, color: 'var(--hl-number)' },
  { tag: tags.string, color: 'var(--hl-string)' },
  { tag: tags.keyword, color: 'var(--hl-keyword)' },
  { tag: tags.function(tags.variableName), color: 'var(--hl-function)' },
  { tag: tags.labelName, color: 'var(--hl-label)' },
  { tag: tags.operator, color: 'var(--hl-operator)' },
  { tag: tags.modifier, color: 'var(--hl-keyword)', fontStyle: 'italic' },
  { tag: tags.operatorKeyword, color: 'var(--hl-keyword)', fontWeight: 'bold' },
  { tag: tags.logicOperator, color: 'var(--hl-keyword)' },
  { tag: tags.comment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: tags.invalid, color: 'var(--bad)' },
]);

const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--input-bg)', fontSize: '14px', border: '1px solid var(--border)', borderRadius: '4px' },
  '&.cm-focused': { outline: '2px solid var(--accent)' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.6' },
  '.cm-content': { caretColor: 'var(--fg)', padding: '6px 0' },
  '.cm-line': { padding: '0 8px' },
  '.cm-tooltip': { backgroundColor: 'var(--bg2)', color: 'var(--fg)', border: '1px solid var(--border)' },
  '.cm-tooltip-autocomplete ul li[aria-selected]': { backgroundColor: 'var(--accent)', color: '#fff' },
  '.cm-completionDetail': { color: 'var(--muted)', marginLeft: '1em' },
  '.cm-completionInfo': { maxWidth: '400px' },
  '.cm-placeholder': { color: 'var(--muted)' },
  '.cm-selectionBackground, &.cm-focused .cm-selectionBackground': { backgroundColor: 'var(--selection) !important' },
});

export interface EditorOptions {
  doc: string;
  onChange: (doc: string) => void;
  onRun: () => void;
}

/** One PromQL extension (and so one completion cache) shared by every panel of the page. */
let promql: PromQLExtension | null = null;
function promqlExtension(): PromQLExtension {
  if (promql === null) {
    promql = new PromQLExtension()
      .setComplete({
        remote: { url: `${window.location.origin}${PREFIX}`, cache: { maxAge: COMPLETION_CACHE_MS } },
        maxMetricsMetadata: 10000,
      })
      .activateCompletion(true)
      .activateLinter(true);
  }
  return promql;
}

export function createEditor(parent: HTMLElement, opts: EditorOptions): EditorView {
  const state = EditorState.create({
    doc: opts.doc,
    extensions: [
      promqlExtension().asExtension(),
      history(),
      drawSelection(),
      highlightSpecialChars(),
      bracketMatching(),
      closeBrackets(),
      highlightSelectionMatches(),
      autocompletion(),
      syntaxHighlighting(highlight),
      theme,
      EditorView.lineWrapping,
      placeholderExt('Expression (press Shift+Enter for new lines)'),
      // Below autocompletion's own keymap (Prec.highest), so Enter picks a completion while the list is open.
      Prec.high(
        keymap.of([
          { key: 'Enter', run: () => (opts.onRun(), true) },
          { key: 'Shift-Enter', run: insertNewlineAndIndent },
        ]),
      ),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) opts.onChange(u.state.doc.toString());
      }),
      EditorView.contentAttributes.of({ 'aria-label': 'PromQL expression' }),
    ],
  });
  return new EditorView({ state, parent });
}

/** Replaces the whole text (used by Format and History), keeping the editor's undo history. */
export function setDoc(view: EditorView, doc: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc } });
}
