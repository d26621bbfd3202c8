// The code panel: the HTML a host page writes to get the state on show
// (its stylesheets, the elements with their attributes as they are now,
// the bundle), and copying it.

/** Attributes the elements set on themselves (not what a host writes). */
const OWN = new Set(["data-atelier-theme", "class", "style"]);
/** Each element's stylesheet in pkg/. */
const SHEETS = { "atelier-editor": "editor.css", "atelier-chat": "chat.css", "atelier-assistant": "assistant.css" };

const escape = (v) => v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** The opening and closing tags of `el`, attributes in the order they were set. */
function tagOf(el) {
  const attrs = el.getAttributeNames().filter((n) => !OWN.has(n)).map((n) => {
    const v = el.getAttribute(n);
    return v === "" ? n : `${n}="${escape(v)}"`;
  });
  return `<${el.localName}${attrs.length ? " " + attrs.join(" ") : ""}></${el.localName}>`;
}

/**
 * The snippet for `elements`; with `brand` ({accent, radius, font}) the
 * host's restyling rules and wrapper too.
 * @param {HTMLElement[]} elements
 * @param {{accent: string, radius: string, font: string} | null} brand
 */
export function snippet(elements, brand) {
  const tags = [...new Set(elements.map((e) => e.localName))];
  const lines = ['<link rel="stylesheet" href="pkg/tokens.css">'];
  for (const tag of tags) lines.push(`<link rel="stylesheet" href="pkg/${SHEETS[tag]}">`);
  let body = elements.map(tagOf);
  if (brand) {
    lines.push(
      "<style>",
      "  /* The host's brand, mapped onto Atelier's tokens on the elements",
      "     themselves (their theme attribute sets the tokens there). */",
      `  .brand { --brand-accent: ${brand.accent}; --brand-radius: ${brand.radius}px; --brand-font: ${brand.font}; }`,
      `  .brand :is(${tags.join(", ")}) {`,
      "    --atelier-accent: var(--brand-accent);",
      "    --atelier-accent-text: #ffffff;",
      "    --atelier-radius: var(--brand-radius);",
      "    --atelier-font: var(--brand-font);",
      "    --atelier-bg: #fffdf7;",
      "    --atelier-surface: #f5efe0;",
      "    --atelier-text: #2b2118;",
      "    --atelier-text-muted: #5c4d3c;",
      "    --atelier-border: #8c7a62;",
      "    --atelier-focus: #b45309;",
      "  }",
      "</style>",
    );
    body = ['<div class="brand">', ...body.map((l) => `  ${l}`), "</div>"];
  }
  lines.push(...body, '<script type="module" src="pkg/atelier-suite.js"></script>');
  return lines.join("\n");
}

/**
 * Copies the text of `node`: the Clipboard API, else the selection and
 * execCommand; when both fail the text stays selected for Ctrl+C.
 * Resolves with whether it was copied.
 * @param {HTMLElement} node
 */
export async function copyText(node) {
  const text = node.textContent || "";
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, not focused): the fallback below.
  }
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
  try {
    if (document.execCommand("copy")) return true;
  } catch {
    // No execCommand: the text stays selected.
  }
  return false;
}
