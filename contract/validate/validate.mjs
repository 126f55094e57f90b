// Validates AsyncAPI documents with the AsyncAPI project's own parser: node validate.mjs FILE...
// Exit 1 on any error (the parser's severity 0), a document it cannot parse, or one that has no
// channel or message; warnings are printed and pass.
import { Parser, fromFile } from '@asyncapi/parser';

const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const errors = diagnostics.filter((d) => d.severity === 0);
  for (const d of diagnostics) {
    const where = d.path && d.path.length ? d.path.join('.') : '(document)';
    console.log(`${file}: ${d.severity === 0 ? 'error' : 'warning'} ${d.code}: ${d.message} at ${where}`);
  }
  if (!document || errors.length > 0) {
    console.log(`${file}: INVALID (${errors.length} errors)`);
    failed = true;
    continue;
  }
  const channels = document.channels().length;
  const messages = document.messages().length;
  if (channels === 0 || messages === 0) {
    console.log(`${file}: INVALID: ${channels} channels, ${messages} messages`);
    failed = true;
    continue;
  }
  console.log(`${file}: valid AsyncAPI ${document.version()}: ${channels} channels, ${messages} messages, ${diagnostics.length - errors.length} warnings`);
}
process.exit(failed ? 1 : 0);
