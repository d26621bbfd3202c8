// Shared by the demo pages: the connection settings of the query string
// (`doc`, `server`, `token`, `protocol`, `user`, `color`) set on the page's
// elements before the bundle defines them, so each connects once with all
// of them.

/**
 * Sets the query string's settings on `elements`; returns the query.
 * @param {HTMLElement[]} elements
 * @returns {URLSearchParams}
 */
export function applyConnection(elements) {
  const params = new URLSearchParams(location.search);
  const set = (name, value) => { if (value) for (const el of elements) el.setAttribute(name, value); };
  set("doc", params.get("doc"));
  if (params.get("server")) {
    set("server", params.get("server"));
    set("token", params.get("token"));
    set("protocol", params.get("protocol"));
    set("user-name", params.get("user"));
    set("user-color", params.get("color"));
  }
  return params;
}
