// The Explorer: the Cover form, then the task followed to its end. Field and parameter names
// are the API's (a unit test in pages/tests.rs holds them against the spec); where the
// operations live, the conversionType it polls with, the voice list's page size, which statuses
// are final, the pitch's bounds and the fields' example hints come from the spec, and the
// outcomes it offers and the webhook delivery state that is not final from the mock's domain,
// all through the page's config block (with where the admin API and the dashboard are).
'use strict';

(() => {
  const { config, el, call, message, statusLine, fill, sleep } = Pages;
  const api = (name) => config.api_base + config.paths[name];
  const FINAL = new Set(config.final_statuses || []);
  const COMPLETED = config.completed_status;
  /** Whether nothing more will happen to a webhook delivery: every state but the pending one. */
  const deliveryFinal = (state) => state !== config.delivery_pending;
  const POLL_MS = 400;
  /** An answer slower than this shows the waiting line (a quick one would only flicker it). */
  const WAIT_NOTE_MS = 200;
  const KEY_STORAGE = 'musicgpt-cover-mock.api-key';

  const $ = (id) => document.getElementById(id);
  const form = $('cover-form');
  const keyInput = $('api-key');
  const fileInput = $('audio-file');
  const urlInput = $('audio-url');
  const voiceInput = $('voice');
  const voiceList = $('voice-options');
  const voiceNote = $('voice-note');
  const pitchInput = $('pitch');
  const pitchValue = $('pitch-value');
  const webhookInput = $('webhook-url');
  const outcomeInput = $('outcome');
  const copyButton = $('copy-curl');

  // ---- Hints: the spec's examples -------------------------------------------------------------
  const examples = config.examples || {};
  if (examples.audio_url) urlInput.placeholder = examples.audio_url;
  if (examples.webhook_url) webhookInput.placeholder = examples.webhook_url;
  if (examples.query) voiceInput.placeholder = `Type to search, e.g. ${examples.query}`;

  // ---- Outcome: the mock's own, sent as Prefer: outcome= --------------------------------------
  for (const outcome of config.outcomes || []) outcomeInput.append(el('option', { value: outcome, text: outcome }));

  // ---- API key, remembered -------------------------------------------------------------------
  keyInput.value = localStorage.getItem(KEY_STORAGE) || '';
  keyInput.addEventListener('input', () => localStorage.setItem(KEY_STORAGE, keyInput.value));

  $('clear-file').addEventListener('click', () => {
    fileInput.value = '';
  });

  // ---- Pitch -------------------------------------------------------------------------------------
  if (config.pitch) {
    if (Number.isInteger(config.pitch.min)) pitchInput.min = config.pitch.min;
    if (Number.isInteger(config.pitch.max)) pitchInput.max = config.pitch.max;
    if (Number.isInteger(config.pitch.default)) pitchInput.value = config.pitch.default;
  }
  const signed = (n) => (n > 0 ? `+${n}` : String(n));
  const showPitch = () => {
    const n = Number(pitchInput.value);
    pitchValue.textContent = `${signed(n)} semitone${Math.abs(n) === 1 ? '' : 's'}`;
  };
  pitchInput.addEventListener('input', showPitch);
  showPitch();

  // ---- Voice picker: getAllVoices when empty, searchVoices as you type --------------------------
  let voiceChoice = null; // {voice_id, voice_name} picked from the list
  let voiceOptions = [];
  let activeOption = -1;
  let searchSeq = 0;
  let searchTimer = 0;

  function voiceId() {
    return voiceChoice ? voiceChoice.voice_id : voiceInput.value.trim();
  }

  function showVoiceNote(text) {
    voiceNote.textContent = text;
  }

  function describeChoice() {
    if (voiceChoice) showVoiceNote(`voice_id ${voiceChoice.voice_id}`);
    else if (voiceInput.value.trim()) showVoiceNote(`No voice picked: "${voiceInput.value.trim()}" is sent as the voice_id.`);
  }

  function closeList() {
    voiceList.hidden = true;
    voiceInput.setAttribute('aria-expanded', 'false');
    voiceInput.removeAttribute('aria-activedescendant');
    activeOption = -1;
  }

  function setActive(index) {
    const items = voiceList.querySelectorAll('[role="option"]');
    items.forEach((item, i) => item.setAttribute('aria-selected', String(i === index)));
    activeOption = index;
    if (index >= 0 && items[index]) {
      voiceInput.setAttribute('aria-activedescendant', items[index].id);
      items[index].scrollIntoView({ block: 'nearest' });
    }
  }

  function pick(voice) {
    voiceChoice = voice;
    voiceInput.value = voice.voice_name || voice.voice_id;
    closeList();
    describeChoice();
  }

  function showOptions(voices) {
    voiceOptions = voices;
    fill(
      voiceList,
      voices.map((voice, i) =>
        el(
          'li',
          {
            role: 'option',
            id: `voice-option-${i}`,
            'aria-selected': 'false',
            // mousedown, not click: the text box keeps its focus, and the list is still there.
            onmousedown: (event) => {
              event.preventDefault();
              pick(voice);
            },
          },
          el('span', { text: voice.voice_name || voice.voice_id }),
          el('span', { class: 'mono', text: voice.voice_id }),
        ),
      ),
    );
    voiceList.hidden = voices.length === 0;
    voiceInput.setAttribute('aria-expanded', String(voices.length > 0));
    activeOption = -1;
  }

  async function searchVoices() {
    const seq = ++searchSeq;
    const key = keyInput.value.trim();
    if (!key) {
      showOptions([]);
      showVoiceNote('Type an API key first: the voice lists need one.');
      return;
    }
    const query = voiceInput.value.trim();
    // A search leaves limit out: its page is the spec's default size. The list to pick from is
    // the largest page the spec allows.
    const url = query
      ? `${api('search_voices')}?${new URLSearchParams({ query })}`
      : `${api('all_voices')}?${new URLSearchParams({ limit: config.voice_list_limit })}`;
    const answer = await call(url, { headers: { Authorization: key } });
    if (seq !== searchSeq) return; // a later search has started
    if (answer.status !== 200) {
      showOptions([]);
      showVoiceNote(`${query ? 'searchVoices' : 'getAllVoices'}: ${statusLine(answer)}: ${message(answer)}`);
      return;
    }
    const voices = (answer.json && answer.json.voices) || [];
    const total = answer.json && Number.isInteger(answer.json.total) ? answer.json.total : voices.length;
    if (document.activeElement === voiceInput) showOptions(voices);
    if (query) {
      showVoiceNote(voices.length ? `${total} voice${total === 1 ? '' : 's'} match "${query}" (searchVoices).` : `No voice matches "${query}"; it is sent as typed.`);
    } else {
      showVoiceNote(`${total} voices (getAllVoices); type to search.`);
    }
  }

  function scheduleSearch(delay) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchVoices, delay);
  }

  voiceInput.addEventListener('input', () => {
    voiceChoice = null;
    scheduleSearch(150);
  });
  voiceInput.addEventListener('focus', () => scheduleSearch(0));
  voiceInput.addEventListener('blur', () => {
    closeList();
    describeChoice();
  });
  voiceInput.addEventListener('keydown', (event) => {
    const count = voiceOptions.length;
    if (event.key === 'ArrowDown' && count) {
      event.preventDefault();
      if (voiceList.hidden) showOptions(voiceOptions);
      setActive((activeOption + 1) % count);
    } else if (event.key === 'ArrowUp' && count) {
      event.preventDefault();
      setActive((activeOption - 1 + count) % count);
    } else if (event.key === 'Enter' && !voiceList.hidden && activeOption >= 0) {
      // Enter picks the highlighted voice rather than sending the form.
      event.preventDefault();
      pick(voiceOptions[activeOption]);
    } else if (event.key === 'Escape') {
      closeList();
    }
  });

  // ---- The request and curl ------------------------------------------------------------------
  /** POSIX shell single quotes. */
  const shellQuote = (text) => `'${String(text).replace(/'/g, `'\\''`)}'`;
  /** A file name inside curl's `-F name=@"file"` quotes. */
  const curlFileName = (name) => name.replace(/[\\"]/g, (c) => `\\${c}`);

  /** The curl command that sends what the page sent: same URL, headers and parts, in order. */
  function curlCommand(url, headers, parts) {
    const args = [`curl -X POST ${shellQuote(url)}`];
    for (const [name, value] of headers) args.push(`-H ${shellQuote(`${name}: ${value}`)}`);
    for (const part of parts) {
      if (part.file) {
        // What the browser sends as the part's type: the file's, or octet-stream when unknown.
        const type = part.file.type || 'application/octet-stream';
        args.push(`-F ${shellQuote(`${part.name}=@"${curlFileName(part.file.name)}";type=${type}`)}`);
      } else {
        // --form-string: the value as is, even when it starts with @ or <.
        args.push(`--form-string ${shellQuote(`${part.name}=${part.value}`)}`);
      }
    }
    return args.join(' \\\n  ');
  }

  let lastCurl = '';
  copyButton.addEventListener('click', async () => {
    const note = $('copy-note');
    try {
      await navigator.clipboard.writeText(lastCurl);
      note.textContent = 'Copied.';
    } catch (_) {
      // No clipboard access (an insecure origin, a denied permission): select the text instead.
      const range = document.createRange();
      range.selectNodeContents($('curl'));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      note.textContent = 'Selected: copy it with Ctrl+C.';
    }
    setTimeout(() => {
      note.textContent = '';
    }, 4000);
  });

  // ---- Showing what happened -------------------------------------------------------------------
  let run = 0; // the current submission; an older one's loops stop when it changes

  function show(id, visible = true) {
    $(id).hidden = !visible;
  }

  /** The call the waiting line is about: the latest to start, so an older one ending (a poll of
   * a run the form has since replaced) does not hide a newer one's line. */
  let waitingFor = null;

  /**
   * `call(url, options)`, saying on the page that `what` is on its way once it takes longer than
   * WAIT_NOTE_MS (under --latency or a delay scenario an answer may take seconds), with the time
   * waited so far; the line goes when the answer comes.
   */
  async function waited(what, url, options) {
    const mine = {};
    waitingFor = mine;
    const started = Date.now();
    const tick = () => {
      if (waitingFor !== mine) return;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      $('waiting-text').textContent = `${what}: waiting for the answer… ${seconds} s`;
      show('waiting');
    };
    let ticking = 0;
    const first = setTimeout(() => {
      tick();
      ticking = setInterval(tick, 100);
    }, WAIT_NOTE_MS);
    try {
      return await call(url, options);
    } finally {
      clearTimeout(first);
      clearInterval(ticking);
      if (waitingFor === mine) {
        waitingFor = null;
        show('waiting', false);
      }
    }
  }

  function clearResults() {
    show('idle-note', false);
    show('error', false);
    show('waiting', false);
    for (const id of ['request-section', 'response-section', 'status-section', 'result-section', 'webhook-section']) show(id, false);
    fill($('states'));
    $('polls').textContent = '';
    $('player').removeAttribute('src');
    $('player').load();
    fill($('attempts').tBodies[0]);
    $('attempts').hidden = true;
    $('durations').textContent = '';
  }

  /** What a status means here, beyond the API's own message. */
  const ADVICE = {
    0: 'Is the mock still running?',
    401: 'Type an API key above.',
    402: 'Insufficient credits: this key\'s balance is below the conversion\'s estimate. Nothing was charged. Set the balance on the dashboard (Credits).',
    403: 'The mock refused this key: without a "Bearer " prefix, and one of its --api-key keys if it was started with any.',
    408: 'The body came too slowly.',
    413: 'The file is over the mock\'s --max-upload-bytes.',
    422: 'The form broke a rule of the spec.',
    429: 'The mock\'s task store is full of unfinished tasks.',
  };

  function showError(answer, what) {
    const box = $('error');
    const advice = ADVICE[answer.status];
    fill(
      box,
      el('strong', { text: `${what}: ${statusLine(answer)}` }),
      el('span', { class: 'api-message', text: message(answer) }),
      advice ? el('div', { class: 'hint', text: advice }) : null,
    );
    box.hidden = false;
  }

  function showResponse(answer) {
    const badge = $('response-status');
    badge.textContent = statusLine(answer);
    badge.className = `badge c${String(answer.status).charAt(0)}`;
    $('response-body').textContent = answer.json ? JSON.stringify(answer.json, null, 2) : answer.text;
    show('response-section');
  }

  function showStatus(status, seen, polls, missed) {
    const badge = $('status');
    badge.textContent = status;
    badge.className = `badge s-${status}`;
    // The polls that got no conversion stay counted here once polling is back.
    const misses = missed.count
      ? ` (${missed.count} unanswered, the last with ${missed.last}; then answered again)`
      : '';
    $('polls').textContent = `${polls} poll${polls === 1 ? '' : 's'} of byId${misses}`;
    fill(
      $('states'),
      seen.map((s) =>
        el('li', {}, el('span', { class: `badge s-${s.status}`, text: s.status }), el('time', { text: s.at })),
      ),
    );
    show('status-section');
  }

  async function follow(current, taskId, key, webhookUrl) {
    const seen = [];
    let polls = 0;
    let failures = 0;
    const missed = { count: 0, last: '' };
    const headers = key ? { Authorization: key } : {};
    const url = `${api('by_id')}?${new URLSearchParams({ conversionType: config.conversion_type, task_id: taskId })}`;
    while (current === run) {
      const answer = await waited('Polling byId', url, { headers });
      if (current !== run) return;
      polls += 1;
      const conversion = answer.status === 200 && answer.json && answer.json.conversion;
      if (!conversion) {
        failures += 1;
        missed.count += 1;
        missed.last = statusLine(answer);
        showError(answer, 'Polling byId');
        // A few misses may be a restart; more and the task is not coming back.
        if (failures >= 5 || (answer.status >= 400 && answer.status < 500 && answer.status !== 429)) return;
        await sleep(POLL_MS * 2);
        continue;
      }
      // Polling is back: the alert was about a poll, and this one was answered. (After a Cover
      // the alert holds nothing else: a Cover that failed is never followed.)
      failures = 0;
      show('error', false);
      const status = String(conversion.status);
      if (!seen.length || seen[seen.length - 1].status !== status) {
        seen.push({ status, at: new Date().toLocaleTimeString() });
      }
      showStatus(status, seen, polls, missed);
      if (FINAL.has(status)) {
        finished(current, conversion, taskId, webhookUrl);
        return;
      }
      await sleep(POLL_MS);
    }
  }

  function finished(current, conversion, taskId, webhookUrl) {
    if (conversion.status === COMPLETED) {
      const player = $('player');
      const durations = $('durations');
      const told = conversion.conversion_duration;
      durations.textContent = told !== undefined ? `conversion_duration ${told} s` : '';
      player.addEventListener(
        'loadedmetadata',
        () => {
          durations.textContent = `conversion_duration ${told} s · the player reads ${player.duration.toFixed(2)} s`;
        },
        { once: true },
      );
      player.src = conversion.audio_url || conversion.conversion_path || '';
      const mp3 = $('mp3-link');
      const wav = $('wav-link');
      mp3.href = conversion.audio_url || conversion.conversion_path || '#';
      wav.href = conversion.audio_url_wav || conversion.conversion_path_wav || '#';
      mp3.setAttribute('download', `${conversion.conversion_id || taskId}.mp3`);
      wav.setAttribute('download', `${conversion.conversion_id || taskId}.wav`);
      show('result-section');
    }
    show('webhook-section');
    if (!webhookUrl) {
      $('webhook-state').textContent = 'No Webhook URL was given, so none is sent.';
    } else if (conversion.status !== COMPLETED) {
      $('webhook-state').textContent = `The task ended ${conversion.status}: the mock sends no webhook for it.`;
    } else {
      watchWebhook(current, taskId);
    }
  }

  function showDelivery(delivery) {
    const state = String(delivery.state);
    const text = [el('span', { class: `badge s-${state}`, text: state }), ` to ${delivery.url}`];
    if (delivery.reason) text.push(el('div', { class: 'hint', text: delivery.reason }));
    fill($('webhook-state'), text);
    const attempts = delivery.attempts || [];
    const table = $('attempts');
    fill(
      table.tBodies[0],
      attempts.map((a) =>
        el(
          'tr',
          {},
          el('td', { class: 'num', text: a.attempt }),
          el('td', { class: 'time', text: Pages.clockTime(a.at) }),
          el('td', { text: a.status === null || a.status === undefined ? '—' : a.status }),
          el('td', { class: 'num', text: `${a.elapsed_ms} ms` }),
          el('td', { class: 'wrap', text: a.error || '' }),
        ),
      ),
    );
    table.hidden = attempts.length === 0;
  }

  async function watchWebhook(current, taskId) {
    const started = Date.now();
    $('webhook-state').textContent = 'Waiting for the delivery…';
    while (current === run) {
      const answer = await Pages.admin(`/webhooks/${encodeURIComponent(taskId)}`);
      if (current !== run) return;
      if (answer.status === 200 && answer.json) {
        showDelivery(answer.json);
        if (deliveryFinal(String(answer.json.state))) return;
      } else if (answer.status === 401) {
        fill($('webhook-state'), 'The admin API wants its token to show deliveries: paste it on the ', el('a', { href: config.dashboard_path, text: 'dashboard' }), '.');
        return;
      } else if (answer.status !== 404 || Date.now() - started > 60000) {
        $('webhook-state').textContent = `${statusLine(answer)}: ${message(answer)}`;
        return;
      }
      await sleep(500);
    }
  }

  // ---- Create cover ------------------------------------------------------------------------------
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const current = ++run;
    clearResults();
    const key = keyInput.value.trim();
    const audioUrl = urlInput.value.trim();
    const file = fileInput.files[0];
    const webhookUrl = webhookInput.value.trim();

    // What is empty is left out, as the reference page's samples do; the API's rules judge the rest.
    const parts = [];
    if (audioUrl) parts.push({ name: 'audio_url', value: audioUrl });
    if (file) parts.push({ name: 'audio_file', file });
    parts.push({ name: 'voice_id', value: voiceId() });
    parts.push({ name: 'pitch', value: String(Number(pitchInput.value)) });
    if (webhookUrl) parts.push({ name: 'webhook_url', value: webhookUrl });
    const body = new FormData();
    for (const part of parts) {
      if (part.file) body.append(part.name, part.file, part.file.name);
      else body.append(part.name, part.value);
    }
    const headers = [];
    if (key) headers.push(['Authorization', key]);
    headers.push(['Prefer', `outcome=${outcomeInput.value}`]);

    lastCurl = curlCommand(`${location.origin}${api('cover')}`, headers, parts);
    $('curl').textContent = lastCurl;
    $('curl-note').textContent = file
      ? `Run it in the folder that holds ${file.name}.`
      : '';
    copyButton.disabled = false;
    show('request-section');

    const button = $('create');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    const answer = await waited('Create cover', api('cover'), { method: 'POST', headers: Object.fromEntries(headers), body });
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (current !== run) return;
    showResponse(answer);
    const taskId = answer.status === 200 && answer.json && answer.json.task_id;
    if (!taskId) {
      showError(answer, 'Create cover');
      return;
    }
    follow(current, taskId, key, webhookUrl);
  });
})();
