// The dashboard: polls the admin API (journal, tasks, clock, credits, faults and scenarios) and
// steers the mock with it.
// A 401 means the mock requires its admin token: the page asks for it and polls again once given.
'use strict';

(() => {
  // `config`: the page's settings from the mock (dashboard.rs): where the admin API is, what a
  // scenario may name and answer with (its spec and its fault kinds), the statuses a task ends in.
  const { config, el, admin, adminSend, message, statusLine, fill, clockTime, sleep } = Pages;
  const POLL_MS = 1000;
  const CREDITS_EVERY = 3; // polls
  const $ = (id) => document.getElementById(id);

  let waitingForToken = false;
  let lastJournal = '';
  let lastTasks = '';
  let lastCredits = '';
  let lastFaults = '';
  let lastScenarios = '';

  /** Shows `text` in the alert, or hides it; `kind` `poll` is cleared by the next good poll. */
  function problem(text, kind = 'action') {
    const box = $('problem');
    box.textContent = text || '';
    box.dataset.kind = kind;
    box.hidden = !text;
  }

  /** The answer if it is a 2xx; otherwise shows why and returns null. */
  function accepted(answer, what, kind = 'action') {
    if (answer.status >= 200 && answer.status < 300) return answer;
    if (answer.status === 401) {
      askForToken(message(answer));
    } else {
      problem(`${what}: ${statusLine(answer)}: ${message(answer)}`, kind);
    }
    return null;
  }

  function askForToken(why) {
    waitingForToken = true;
    $('token-panel').hidden = false;
    if (Pages.adminToken()) {
      $('token-why').textContent = `The stored token was refused: ${why}`;
    }
    problem('');
  }

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    Pages.setAdminToken($('admin-token').value.trim());
    $('admin-token').value = '';
    $('token-panel').hidden = true;
    waitingForToken = false;
    lastJournal = lastTasks = lastCredits = '';
    refresh(true);
  });
  $('forget-token').addEventListener('click', () => {
    Pages.setAdminToken('');
    $('admin-token').value = '';
  });

  // ---- Clock and reset -----------------------------------------------------------------------
  function showClock(clock) {
    $('now').textContent = clock.now;
    $('clock-mode').textContent = clock.frozen ? 'frozen: moves only when advanced' : 'with the wall clock';
    $('time-scale').textContent = `${clock.time_scale} (a task takes eta × ${clock.time_scale} s)`;
  }

  $('advance-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const seconds = Number($('advance-seconds').value);
    if (accepted(await adminSend('POST', '/clock/advance', { seconds }), 'Advance the clock')) {
      problem('');
      refresh(true);
    }
  });

  $('reset').addEventListener('click', async () => {
    if (!window.confirm('Reset the mock? Tasks, the journal and webhook records go; balances and the clock start again.')) return;
    if (accepted(await adminSend('POST', '/reset'), 'Reset')) {
      problem('');
      lastJournal = lastTasks = lastCredits = lastFaults = lastScenarios = '';
      refresh(true);
    }
  });

  // ---- Tasks --------------------------------------------------------------------------------------
  const FINAL = new Set(config.final_statuses || []);

  function source(task) {
    const s = task.source || {};
    if (s.kind === 'url') return s.url;
    if (s.kind === 'file') return `file ${s.filename || '(no name)'} (${s.size} B)`;
    return s.kind || '';
  }

  /**
   * What an open task is set to end as, in words that cannot pass for its status: `outcome` is
   * the plan (`Prefer: outcome=`, or Complete / Fail), and a task still IN_QUEUE has not
   * COMPLETED. A final task's Status column says how it ended.
   */
  function plannedEnd(task) {
    if (FINAL.has(task.status)) return '';
    return task.outcome === config.completed_status ? 'will complete' : `will end ${task.outcome}`;
  }

  /** Ends `task` now by `send(id)`, its admin call; `action` names it in a problem. */
  async function finish(task, action, send) {
    if (accepted(await send(encodeURIComponent(task.task_id)), `${action} ${task.task_id}`)) {
      problem('');
      refresh(true);
    }
  }

  function showTasks(tasks) {
    // Newest first; a store of thousands would make the page crawl, so the newest 200 are shown.
    const sorted = [...tasks].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at))).slice(0, 200);
    const rows = sorted.map((task) => {
      const open = !FINAL.has(task.status);
      return el(
        'tr',
        { 'data-task-id': task.task_id },
        el('td', { class: 'mono key', text: task.task_id }),
        el('td', {}, el('span', { class: `badge s-${task.status}`, text: task.status })),
        el('td', { class: 'key', text: task.voice_id }),
        el('td', { class: 'num', text: task.pitch }),
        el('td', { class: 'wrap', text: source(task) }),
        el('td', { class: 'mono key', text: task.api_key }),
        el('td', { class: 'muted', text: plannedEnd(task) }),
        el('td', { class: 'mono time', text: clockTime(task.finishes_at) }),
        el(
          'td',
          { class: 'row' },
          open && el('button', { type: 'button', class: 'small', text: 'Complete', onclick: () => finish(task, 'complete', (id) => adminSend('POST', `/tasks/${id}/complete`)) }),
          open && el('button', { type: 'button', class: 'small danger', text: 'Fail', onclick: () => finish(task, 'fail', (id) => adminSend('POST', `/tasks/${id}/fail`)) }),
        ),
      );
    });
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 9, class: 'empty', text: 'No tasks yet.' })));
    fill($('tasks').tBodies[0], rows);
  }

  // ---- Credits ----------------------------------------------------------------------------------
  async function saveCredits(key, value) {
    const credits = Number(value);
    if (accepted(await adminSend('PUT', `/credits/${encodeURIComponent(key)}`, { credits }), `Set the credits of ${key}`)) {
      problem('');
      lastCredits = '';
      refresh(true);
      return true;
    }
    return false;
  }

  function editing() {
    const table = $('credits');
    return table.contains(document.activeElement) || table.querySelector('input[data-dirty]');
  }

  function showCredits(data) {
    $('credits-note').textContent = data.restricted
      ? 'Only the --api-key keys (and keys given a balance here) are accepted.'
      : `Any key is accepted; a new one starts with ${data.default_credits}.`;
    const rows = (data.keys || []).map((entry) => {
      const id = `credits-${entry.key}`;
      const input = el('input', { type: 'number', min: '0', step: 'any', value: entry.credits, id, 'aria-label': `Credits of ${entry.key}` });
      input.addEventListener('input', () => input.setAttribute('data-dirty', ''));
      const save = () => saveCredits(entry.key, input.value);
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') save();
      });
      return el(
        'tr',
        {},
        el('td', { class: 'mono', text: entry.key }),
        el('td', {}, input),
        el('td', {}, el('button', { type: 'button', class: 'small', text: 'Save', 'aria-label': `Save the credits of ${entry.key}`, onclick: save })),
      );
    });
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 3, class: 'empty', text: 'No key has a balance yet: a key gets one when first charged.' })));
    fill($('credits').tBodies[0], rows);
  }

  $('new-key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = $('new-key').value.trim();
    if (!key) return;
    if (await saveCredits(key, $('new-credits').value)) $('new-key').value = '';
  });

  // ---- Faults and scenarios ---------------------------------------------------------------------
  function ruleText(rule) {
    return `${rule.operation}=${rule.rate}${rule.status == null ? '' : `:${rule.status}`}`;
  }

  function faultsEdited() {
    const form = $('faults-form');
    return form.contains(document.activeElement) || form.querySelector('input[data-dirty]');
  }

  function showFaults(settings) {
    if (faultsEdited()) return;
    $('fault-latency').value = settings.latency || '';
    $('fault-rates').value = (settings.fail_rates || []).map(ruleText).join(', ');
  }

  for (const id of ['fault-latency', 'fault-rates']) {
    $(id).addEventListener('input', () => $(id).setAttribute('data-dirty', ''));
  }

  $('faults-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const latency = $('fault-latency').value.trim() || null;
    const rules = $('fault-rates').value.split(',').map((r) => r.trim()).filter(Boolean);
    const body = { latency, fail_rates: rules.map((spec) => ({ spec })) };
    if (accepted(await adminSend('PUT', '/faults', body), 'Save the faults')) {
      problem('');
      for (const id of ['fault-latency', 'fault-rates']) $(id).removeAttribute('data-dirty');
      lastFaults = '';
      refresh(true);
    }
  });

  function respondText(respond) {
    if (respond.status != null) return `status ${respond.status}${respond.example ? ` (${respond.example})` : ''}`;
    if (respond.delay_ms != null) return `delay ${respond.delay_ms} ms`;
    if (respond.bytes_per_second != null) return `${respond.fault} at ${respond.bytes_per_second} B/s`;
    return respond.fault || JSON.stringify(respond);
  }

  async function deleteScenario(id) {
    if (accepted(await adminSend('DELETE', `/scenarios/${encodeURIComponent(id)}`), `Delete scenario ${id}`)) {
      problem('');
      refresh(true);
    }
  }

  function showScenarios(list) {
    const rows = list.map((s) =>
      el(
        'tr',
        { 'data-scenario-id': s.id },
        el('td', { class: 'mono', text: s.id }),
        el('td', { class: 'mono', text: s.operation }),
        el('td', { text: respondText(s.respond || {}) }),
        el('td', { class: 'num', text: `${s.remaining} of ${s.times}` }),
        el('td', { class: 'num', text: s.retry_after == null ? '' : `${s.retry_after} s` }),
        el('td', {}, el('button', { type: 'button', class: 'small secondary', text: 'Delete', 'aria-label': `Delete scenario ${s.id}`, onclick: () => deleteScenario(s.id) })),
      ),
    );
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'empty', text: 'No scenario waiting: requests are answered as usual.' })));
    fill($('scenarios').tBodies[0], rows);
  }

  for (const op of config.operations || []) $('scenario-operation').append(el('option', { value: op, text: op }));
  $('scenario-operation').append(el('option', { value: config.any_operation, text: `${config.any_operation} (any)` }));
  const KINDS = new Map((config.fault_kinds || []).map((k) => [k.name, k]));
  for (const k of KINDS.values()) $('scenario-kind').append(el('option', { value: k.name, text: k.summary }));
  /** The kind's example `respond`, and the key of its one number (none for a bare fault). */
  function kindExample(name) {
    const example = (KINDS.get(name) || {}).example || {};
    return { example, param: Object.keys(example).find((key) => key !== 'fault') };
  }
  function showKind() {
    const { example, param } = kindExample($('scenario-kind').value);
    $('scenario-value').disabled = !param;
    if (param) $('scenario-value').value = example[param];
  }
  $('scenario-kind').addEventListener('change', showKind);
  showKind();

  $('scenario-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const { example, param } = kindExample($('scenario-kind').value);
    const respond = { ...example };
    if (param) respond[param] = Number($('scenario-value').value);
    // No number of times (empty, 0) is sent as null: the mock's default.
    const body = { operation: $('scenario-operation').value, times: Number($('scenario-times').value) || null, respond };
    const retry = $('scenario-retry').value.trim();
    if (retry) body.retry_after = Number(retry);
    if (accepted(await adminSend('POST', '/scenarios', body), 'Add the scenario')) {
      problem('');
      refresh(true);
    }
  });

  $('clear-scenarios').addEventListener('click', async () => {
    if (accepted(await adminSend('DELETE', '/scenarios'), 'Clear the scenarios')) {
      problem('');
      refresh(true);
    }
  });

  /** What the fault injection did to a request, in a few words. */
  function faultText(f) {
    if (!f) return '';
    const parts = [];
    if (f.scenario) parts.push(`${f.scenario} ${f.kind || ''}`.trim());
    if (f.fail_rate) parts.push(`fail rate ${f.fail_rate}`);
    if (f.delay_ms != null) parts.push(`+${f.delay_ms} ms`);
    if (f.latency_ms != null) parts.push(`latency ${f.latency_ms} ms`);
    return parts.join(', ');
  }

  // ---- Journal ----------------------------------------------------------------------------------
  function formText(form) {
    if (!form) return '';
    const parts = (form.fields || []).map((f) => `${f.name}=${f.value}${f.truncated ? '…' : ''}`);
    for (const file of form.files || []) {
      parts.push(`${file.name}: ${file.filename || '(no name)'} (${file.content_type || 'no type'}, ${file.size} B)`);
    }
    if (form.error) parts.push(`error: ${form.error}`);
    return parts.join('  ');
  }

  /** The answer a journal entry kept: status, headers, then the body (JSON laid out) or its size and hash. */
  function keptAnswerText(answer) {
    if (!answer) return 'No answer was sent (the connection was closed or reset).';
    const lines = [`HTTP ${answer.status}`];
    for (const [name, value] of Object.entries(answer.headers || {})) lines.push(`${name}: ${value}`);
    lines.push('');
    const body = answer.body || {};
    if (body.json !== undefined) lines.push(JSON.stringify(body.json, null, 2));
    else if (body.text !== undefined) lines.push(body.text || '(empty body)');
    else lines.push(`(${body.size} bytes, kept by size and hash: SHA-256 ${body.sha256})`);
    return lines.join('\n');
  }

  let selectedSeq = null;

  function select(entry) {
    selectedSeq = entry.seq;
    const r = entry.request;
    $('journal-answer-title').textContent = `Answer to #${entry.seq}: ${r.method} ${r.path}`;
    $('journal-answer-text').textContent = keptAnswerText(r.answer);
    $('journal-answer').hidden = false;
    for (const row of $('journal').tBodies[0].rows) {
      row.setAttribute('aria-selected', String(row.dataset.seq === String(selectedSeq)));
    }
  }

  function journalRow(entry) {
    const r = entry.request;
    if (r) {
      const target = r.query ? `${r.path}?${r.query}` : r.path;
      return el(
        'tr',
        {
          'data-seq': entry.seq,
          tabindex: 0,
          class: 'selectable',
          'aria-selected': String(entry.seq === selectedSeq),
          onclick: () => select(entry),
          onkeydown: (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              select(entry);
            }
          },
        },
        el('td', { class: 'num', text: entry.seq }),
        el('td', { class: 'mono time', text: clockTime(entry.at) }),
        el('td', { class: 'mono wrap', text: `${r.method} ${target}` }),
        el(
          'td',
          {},
          el('span', { class: `badge c${String(r.status).charAt(0)}`, text: r.status === 0 ? 'none' : r.status }),
          r.fault && el('span', { class: 'hint', text: ` ${faultText(r.fault)}` }),
        ),
        el('td', { class: 'mono key', text: (r.headers && r.headers.authorization) || '' }),
        el('td', { class: 'mono key', text: (r.headers && r.headers.origin) || '' }),
        el('td', { class: 'mono wrap', text: formText(r.form) }),
      );
    }
    const w = entry.webhook || {};
    return el(
      'tr',
      { 'data-seq': entry.seq },
      el('td', { class: 'num', text: entry.seq }),
      el('td', { class: 'mono time', text: clockTime(entry.at) }),
      el('td', { class: 'mono wrap', text: `${entry.kind.replace('_', ' ')} → ${w.url || ''}` }),
      el('td', {}, el('span', { class: 'badge c4', text: 'webhook' })),
      el('td', { class: 'mono key', text: w.task_id || '' }),
      el('td', {}),
      el('td', { class: 'wrap', text: w.reason || '' }),
    );
  }

  let journalEntries = [];

  function showJournal() {
    const filter = $('journal-filter').value.trim().toLowerCase();
    const rows = [...journalEntries]
      .reverse()
      .map(journalRow)
      .filter((row) => !filter || row.textContent.toLowerCase().includes(filter));
    if (!rows.length) {
      rows.push(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: journalEntries.length ? 'Nothing matches the filter.' : 'No requests yet: they appear here as they come.' })));
    }
    fill($('journal').tBodies[0], rows);
  }

  $('journal-filter').addEventListener('input', showJournal);
  $('journal-last').addEventListener('change', () => {
    lastJournal = '';
    refresh(true);
  });
  $('clear-journal').addEventListener('click', async () => {
    if (accepted(await adminSend('DELETE', '/journal'), 'Clear the journal')) {
      lastJournal = '';
      refresh(true);
    }
  });

  // ---- Polling ----------------------------------------------------------------------------------
  let polls = 0;
  let busy = false;

  async function refresh(force) {
    if (busy && !force) return;
    busy = true;
    try {
      const last = $('journal-last').value;
      const [journal, tasks, clock, scenarios] = await Promise.all([
        admin(`/journal?last=${encodeURIComponent(last)}`),
        admin('/tasks'),
        admin('/clock'),
        admin('/scenarios'),
      ]);
      if (!accepted(journal, 'The journal', 'poll') || !accepted(tasks, 'The tasks', 'poll') || !accepted(clock, 'The clock', 'poll')) return;
      if (accepted(scenarios, 'The scenarios', 'poll') && scenarios.text !== lastScenarios) {
        lastScenarios = scenarios.text;
        showScenarios(scenarios.json || []);
      }
      if (journal.text !== lastJournal) {
        lastJournal = journal.text;
        journalEntries = (journal.json && journal.json.entries) || [];
        showJournal();
      }
      if (tasks.text !== lastTasks) {
        lastTasks = tasks.text;
        showTasks((tasks.json && tasks.json.tasks) || []);
      }
      showClock(clock.json || {});
      if (force || polls % CREDITS_EVERY === 0 || !lastCredits) {
        const credits = accepted(await admin('/credits'), 'The credits', 'poll');
        // A balance being typed is not overwritten by the next poll.
        if (credits && credits.text !== lastCredits && !editing()) {
          lastCredits = credits.text;
          showCredits(credits.json || {});
        }
      }
      if (force || polls % CREDITS_EVERY === 0 || !lastFaults) {
        const faults = accepted(await admin('/faults'), 'The faults', 'poll');
        if (faults && faults.text !== lastFaults && !faultsEdited()) {
          lastFaults = faults.text;
          showFaults(faults.json || {});
        }
      }
      $('journal-live').textContent = `Live: updated ${new Date().toLocaleTimeString()}`;
      // A poll that went through clears what an earlier poll showed (the mock was restarted).
      if ($('problem').dataset.kind === 'poll') problem('');
    } finally {
      busy = false;
    }
  }

  (async () => {
    for (;;) {
      if (!waitingForToken) {
        await refresh(false);
        polls += 1;
      }
      await sleep(POLL_MS);
    }
  })();
})();
