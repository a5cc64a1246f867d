// Part of template (see template.ts): the one error type of the package.

/**
 * A template that does not parse (kind 'parse') or fails while executing
 * (kind 'exec'). The message is Go's text/template error, e.g.
 * `template: x:1: function "foo" not defined` or
 * `template: x:1:3: executing "x" at <.Foo>: can't evaluate field Foo in type ...`.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    message: string,
    readonly kind: 'parse' | 'exec',
  ) {
    super(message);
  }
}
