// What the Explorer and the dashboard share: their settings, building elements, calling the
// mock, the admin token. Every text these pages show (an answer, a journal entry, a webhook
// record) may come from anyone who called the mock, so elements are built with textContent, never
// from HTML strings.
'use strict';

const Pages = (() => {
  /** The page's settings, written into it by the mock (explorer.rs, dashboard.rs). */
  const config = JSON.parse(document.getElementById('config').textContent);

  /** An element with attributes (`class`, `text` and `on*` handled specially) and children. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'class') node.className = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /**
   * A call, read to its end: `{status, statusText, json, text, error}`; `status` is 0 and
   * `error` says why when no answer came.
   */
  async function call(url, options = {}) {
    let response;
    try {
      response = await fetch(url, { cache: 'no-store', ...options });
    } catch (error) {
      return { status: 0, statusText: '', json: null, text: '', error: String(error) };
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    return { status: response.status, statusText: response.statusText, json, text, error: null };
  }

  /** The API's own words for an answer: its `error` or `message`, else the body. */
  function message(answer) {
    if (answer.status === 0) return `no answer from the mock (${answer.error})`;
    const body = answer.json;
    if (body && typeof body === 'object') {
      for (const key of ['error', 'message', 'detail']) {
        if (typeof body[key] === 'string' && body[key]) return body[key];
      }
    }
    return answer.text || '(empty body)';
  }

  /** `422 Unprocessable Entity`. */
  function statusLine(answer) {
    return answer.status === 0 ? 'no answer' : `${answer.status} ${answer.statusText}`.trim();
  }

  // The admin token lives in this browser's storage for this origin, shared by both pages: the
  // dashboard asks for it, the Explorer uses it to show webhook deliveries.
  const TOKEN_KEY = 'musicgpt-cover-mock.admin-token';

  function adminToken() {
    return localStorage.getItem(TOKEN_KEY) || '';
  }

  function setAdminToken(token) {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  }

  /** A call to the admin API, with the token when one is stored. */
  function admin(path, options = {}) {
    const headers = { ...(options.headers || {}) };
    const token = adminToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    return call(`${config.admin_path}${path}`, { ...options, headers });
  }

  /** An admin call that changes something: a JSON object body. */
  function adminSend(method, path, body) {
    return admin(path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** `12:03:04.125` from an RFC 3339 time. */
  function clockTime(rfc3339) {
    const match = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(rfc3339 || '');
    return match ? match[1] : rfc3339 || '';
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Replaces `node`'s children. */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null));
  }

  return { config, el, call, message, statusLine, adminToken, setAdminToken, admin, adminSend, clockTime, sleep, fill };
})();
