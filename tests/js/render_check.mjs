// Render LaTeX with KaTeX (strict) and Markdown with markdown-it + KaTeX for its $$ / $ math.
// Input on stdin: JSON list of {kind: "latex" | "markdown", text}. Output: JSON list of
// {ok, error, html_length}.
import { createRequire } from "node:module";
const require = createRequire(process.env.NNDERIV_NODE_MODULES + "/");
const katex = require("katex");
const MarkdownIt = require("markdown-it");

const opts = (display) => ({ displayMode: display, throwOnError: true, strict: "error" });

function renderMarkdown(text) {
  const md = new MarkdownIt({ html: false });
  // math first, as GitHub and Jupyter do: $$...$$ blocks, then $...$ inline
  let count = 0;
  const withMath = text
    .replace(/\$\$([\s\S]+?)\$\$/g, (_, tex) => { count++; return katex.renderToString(tex, opts(true)); })
    .replace(/\$([^$\n]+?)\$/g, (_, tex) => { count++; return katex.renderToString(tex, opts(false)); });
  if (count === 0) throw new Error("no math found in the Markdown");
  const html = md.render(withMath.replace(/\n/g, "\n"));
  if (html.includes("$$")) throw new Error("unrendered $$ left in the HTML");
  return html;
}

let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(({ kind, text }) => {
    try {
      const html = kind === "latex" ? katex.renderToString(text, opts(true)) : renderMarkdown(text);
      return { ok: true, error: null, html_length: html.length };
    } catch (e) {
      return { ok: false, error: String(e.message || e), html_length: 0 };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
