// whyrec playground: plain fetch calls to the service, no build step.
const $ = (id) => document.getElementById(id);
let promptId = "reason-short";
let savedRef = null;
let renders = 0; // only the latest render draws: an earlier, slower reply must not overwrite it

async function call(path, body) {
  const headers = { authorization: `Bearer ${$("token").value}` };
  const opts = body === undefined ? { headers } : {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || data));
  return data;
}

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value; o.textContent = text; select.appendChild(o);
}

async function loadShoppers() {
  const users = await call("/v1/playground/shoppers");
  $("shopper").innerHTML = "";
  users.forEach((u) => option($("shopper"), u, u));
  await loadItems();
}

async function loadItems() {
  const query = $("query").value.trim();
  const items = await call(`/v1/playground/items?user_id=${encodeURIComponent($("shopper").value)}` +
    (query ? `&query=${encodeURIComponent(query)}` : ""));
  const chosen = $("item").value;
  $("item").innerHTML = "";
  items.forEach((it) => option($("item"), it.item_id, `${it.item_id} ${it.title}`));
  if (items.some((it) => it.item_id === chosen)) $("item").value = chosen;
}

async function loadTemplates() {
  const t = await call(`/v1/playground/templates?style=${$("style").value}`);
  promptId = t.prompt_id; $("tpl-zh").value = t.zh; $("tpl-en").value = t.en;
}

function drawChart(attribution) {
  const chart = $("chart"); chart.innerHTML = "";
  if (!attribution) { chart.textContent = "(pasted facts: no attribution)"; return; }
  const entries = Object.entries(attribution).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((s, [, v]) => s + Math.max(v, 0), 0) || 1;
  for (const [name, v] of entries) {
    const row = document.createElement("div"); row.className = "bar";
    const width = Math.min(Math.abs(v) / total, 1) * 240;
    row.innerHTML = `<span class="name"></span><span class="fill${v < 0 ? " neg" : ""}" style="width:${width}px"></span>` +
      `<span>${v > 0 ? Math.round((100 * v) / total) + "%" : "against"}</span>`;
    row.querySelector(".name").textContent = name;
    chart.appendChild(row);
  }
}

function drawFacts(facts) {
  const list = $("facts"); list.innerHTML = "";
  for (const f of facts.facts) {
    const li = document.createElement("li");
    li.textContent = `${f.kind} (${Math.round(f.share * 100)}%): ${JSON.stringify(f.evidence)}`;
    list.appendChild(li);
  }
}

function drawBecause(c) {
  const list = $("because"); list.innerHTML = "";
  const add = (text) => { const li = document.createElement("li"); li.textContent = text; list.appendChild(li); };
  if (!c) { add("(pasted facts or a new shopper: no actions to take away)"); return; }
  const actions = c.actions.map((a) => `${a.did} ${a.title}`).join("; ");
  add(c.found ? `without ${actions}, it falls to rank ${c.rank_without}, out of the top ${c.k}; ${c.replaced_by} takes its place`
              : `none of ${c.actions_considered} actions (up to ${c.actions.length} at once) takes it out of the top ${c.k}`);
  for (const k of c.checks) {
    add(`${k.kind}: ${k.named.title} is ${k.necessary ? "necessary" : "not necessary"}; the reason ` +
        (k.served ? `names ${k.served.title}` : "is said without a name"));
  }
}

function drawOutput(lang, e) {
  const p = $(`out-${lang}`);
  p.textContent = e ? e.text : "";
  if (e) {
    const badge = document.createElement("span");
    badge.className = "badge" + (e.fallback_used ? " fallback" : "");
    badge.textContent = e.fallback_used ? "template fallback" : e.attempts ? `${e.model_id} · verified` : "template";
    p.appendChild(badge);
  }
  const ul = $(`claims-${lang}`); ul.innerHTML = "";
  for (const c of (e ? e.report.claims : [])) {
    const li = document.createElement("li");
    li.className = c.ok ? "ok" : "bad";
    li.textContent = `${c.ok ? "✓" : "✗"} ${c.rule}: ${c.text} — ${c.why}`;
    ul.appendChild(li);
  }
}

async function render() {
  const mine = ++renders;
  $("errors").textContent = ""; $("status").textContent = "rendering…";
  const body = { style: $("style").value, templates: { zh: $("tpl-zh").value, en: $("tpl-en").value } };
  const pasted = $("facts-json").value.trim();
  try {
    if (pasted) body.facts = JSON.parse(pasted);
    else {
      body.user_id = $("shopper").value; body.item_id = $("item").value;
      if ($("query").value.trim()) body.query = $("query").value.trim();
    }
    const r = await call("/v1/playground/render", body);
    if (mine !== renders) return;
    drawChart(r.attribution); drawFacts(r.facts); drawBecause(r.counterfactual);
    $("errors").textContent = r.errors.join("\n");
    for (const lang of ["zh", "en"]) drawOutput(lang, r.outputs ? r.outputs[lang] : null);
    $("status").textContent = r.errors.length ? "template has errors" : "rendered";
  } catch (err) {
    if (mine !== renders) return;
    $("errors").textContent = String(err.message || err); $("status").textContent = "";
  }
}

async function save() {
  try {
    const r = await call("/v1/admin/prompts/save", {
      prompt_id: promptId, templates: { zh: $("tpl-zh").value, en: $("tpl-en").value }, note: $("note").value });
    savedRef = r.ref; $("promote").disabled = false;
    $("status").textContent = `saved ${r.ref}`;
  } catch (err) { $("status").textContent = `save refused: ${err.message}`; }
}

async function promote() {
  try {
    const r = await call("/v1/admin/prompts/promote", { ref: savedRef, label: $("label").value, note: $("note").value });
    $("status").textContent = `${promptId}@${r.label} → version ${r.entry.version}`;
  } catch (err) { $("status").textContent = `promote refused: ${err.message}`; }
}

$("shopper").addEventListener("change", loadItems);
$("query").addEventListener("change", () => loadItems().then(render));
$("style").addEventListener("change", loadTemplates);
$("render").addEventListener("click", render);
$("save").addEventListener("click", save);
$("promote").addEventListener("click", promote);
function start() {
  $("errors").textContent = "";
  Promise.all([loadShoppers(), loadTemplates()]).then(render).catch((err) => { $("errors").textContent = String(err); });
}
$("token").addEventListener("change", start);
$("errors").textContent = "Enter the admin token to start.";
