// Configuration files are rendered from handlebars templates under templates/, so a reader finds
// every file pvc writes for another program in one folder. Templates are compiled once and
// cached: a daemon renders the same few files again on every reconcile.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { PvcError } from './errors.ts';

/** The folder that holds templates/, found from this file's place in the repository. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEMPLATES_DIR = path.join(REPO_ROOT, 'templates');

/** Template names are relative paths without the .hbs suffix: `zoo.cfg`, `libvirt/domain.xml`. */
const TEMPLATE_NAME = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/**
 * Renders templates/<name>.hbs with `context`. Values are not HTML-escaped (these are config
 * files, not web pages), and strict mode makes a value missing from `context` an error instead
 * of an empty setting in the output.
 */
export function renderTemplate(name: string, context: object): string {
  return templateFor(name)(context);
}

function templateFor(name: string): Handlebars.TemplateDelegate {
  const cached = compiled.get(name);
  if (cached) return cached;
  if (!TEMPLATE_NAME.test(name) || name.includes('..')) {
    throw new PvcError('bad-input', `invalid template name ${JSON.stringify(name)}: use a relative path of lowercase letters, digits, dots, hyphens`);
  }
  const file = path.join(TEMPLATES_DIR, `${name}.hbs`);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PvcError('not-found', `template ${JSON.stringify(name)} not found at ${file}`, { cause: error });
  }
  const template = Handlebars.compile(source, { noEscape: true, strict: true });
  compiled.set(name, template);
  return template;
}
