// The seller dashboard: reads the projection's metrics and order views through the
// dashboard's own routes (the session cookie authenticates them) and draws its charts as SVG,
// with no third-party code.
"use strict";

const body = document.body;
const seller = body.dataset.seller;
const serverNow = () => new Date(body.dataset.now); // the service's clock (may be simulated)
const SVG = "http://www.w3.org/2000/svg";
const STANDING = [
  ["late_dispatch_rate", "Late dispatch rate (LDR)"],
  ["valid_tracking_rate", "Valid tracking rate (VTR)"],
  ["on_time_delivery_rate", "On-time delivery rate (OTDR)"],
  ["seller_fault_cancellation_rate", "Seller-fault cancellation rate (SFCR)"],
  ["label_defect_rate", "Label defect rate"],
];

async function api(path) {
  const response = await fetch(`/dashboard/api${path}`, { credentials: "same-origin" });
  if (response.status === 401) window.location.assign("/dashboard/sign-in");
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(`${response.status} ${problem.detail || response.statusText}`);
  }
  return response.json();
}

function el(tag, attrs = {}, text = "") {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)} %`);
const meets = (value, rule) =>
  value === null ? null : rule.op === "<=" ? value <= rule.value : value >= rule.value;

function chart(svg, points, { kind, format }) {
  svg.replaceChildren();
  const width = svg.clientWidth || 600;
  const height = svg.clientHeight || 220;
  const pad = { left: 48, right: 12, top: 12, bottom: 28 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const x = (i) => pad.left + (i + 0.5) * ((width - pad.left - pad.right) / points.length);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.append(el("svg:line", { class: "axis", x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0) }));
  svg.append(el("svg:text", { x: 4, y: y(max) + 4 }, format(max)));
  svg.append(el("svg:text", { x: 4, y: y(0) }, format(0)));
  const step = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((p, i) => {
    if (i % step === 0) svg.append(el("svg:text", { x: x(i) - 14, y: height - 8 }, p.label));
  });
  if (kind === "bar") {
    const w = Math.max(2, ((width - pad.left - pad.right) / points.length) * 0.7);
    for (const [i, p] of points.entries()) {
      const bar = el("svg:rect", { class: "bar", x: x(i) - w / 2, y: y(p.value), width: w, height: y(0) - y(p.value) });
      bar.append(el("svg:title", {}, `${p.label}: ${format(p.value)}`));
      svg.append(bar);
    }
  } else {
    const d = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
    svg.append(el("svg:path", { class: "line", d }));
  }
}

function standingChart(svg, total, thresholds) {
  svg.replaceChildren();
  const width = svg.clientWidth || 900;
  const rowHeight = 44;
  const height = STANDING.length * rowHeight + 10;
  const left = 330;
  const scale = (v) => left + v * (width - left - 20);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.height = `${height}px`;
  STANDING.forEach(([name, label], i) => {
    const m = total[name];
    const rule = thresholds[name];
    const top = 8 + i * rowHeight;
    const ok = meets(m.value, rule);
    svg.append(el("svg:text", { x: 4, y: top + 18 }, `${label}: ${pct(m.value)} (${rule.op} ${pct(rule.value)})`));
    svg.append(el("svg:rect", { class: "axis", x: left, y: top + 4, width: width - left - 20, height: 20, fill: "none" }));
    const bar = el("svg:rect", {
      class: ok === null ? "none" : ok ? "ok" : "bad",
      x: left, y: top + 4, height: 20, width: Math.max(1, scale(m.value || 0) - left),
    });
    bar.append(el("svg:title", {}, `${m.numerator} / ${m.denominator}`));
    svg.append(bar);
    svg.append(el("svg:line", { class: "threshold", x1: scale(rule.value), x2: scale(rule.value), y1: top, y2: top + 28 }));
  });
}

function cards(total, thresholds) {
  const section = document.getElementById("standing");
  section.replaceChildren();
  for (const [name, label] of STANDING) {
    const m = total[name];
    const ok = meets(m.value, thresholds[name]);
    const card = el("div", { class: `card ${ok === null ? "" : ok ? "ok" : "bad"}`, "data-metric": name });
    card.append(el("div", {}, label));
    card.append(el("div", { class: "value" }, pct(m.value)));
    card.append(el("div", { class: "detail" },
      `${m.numerator} / ${m.denominator} · target ${thresholds[name].op} ${pct(thresholds[name].value)}`));
    section.append(card);
  }
}

function reasons(view, soon) {
  const why = [];
  if (["AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"].includes(view.status) && view.dispatch_deadline
      && new Date(view.dispatch_deadline) < soon) why.push("dispatch deadline near or passed");
  if (view.packages.some((p) => p.pickup && p.pickup.overdue)) why.push("pickup overdue");
  if (view.open_aftersales_cases > 0) why.push(`${view.open_aftersales_cases} open after-sales case(s)`);
  return why.join("; ");
}

async function load() {
  const days = Number(document.getElementById("days").value);
  const to = serverNow();
  to.setUTCHours(24, 0, 0, 0); // the end of today: whole days
  const from = new Date(to.getTime() - days * 86400000);
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), granularity: "day" });
  const metrics = await api(`/sellers/${encodeURIComponent(seller)}/metrics?${q}`);
  const label = (p) => p.from.slice(5, 10);
  chart(document.getElementById("orders-chart"),
    metrics.periods.map((p) => ({ label: label(p), value: p.orders })), { kind: "bar", format: (v) => String(v) });
  const currency = metrics.total.gmv.length ? metrics.total.gmv[0].currency : "";
  chart(document.getElementById("gmv-chart"),
    metrics.periods.map((p) => ({ label: label(p), value: (p.gmv.find((g) => g.currency === currency) || { amount: 0 }).amount })),
    { kind: "line", format: (v) => `${v.toLocaleString()} ${currency}` });
  standingChart(document.getElementById("standing-chart"), metrics.total, metrics.thresholds);
  cards(metrics.total, metrics.thresholds);

  const totals = document.getElementById("totals");
  totals.replaceChildren();
  const rows = [
    ["orders", metrics.total.orders],
    ["GMV", metrics.total.gmv.map((g) => `${g.amount.toLocaleString()} ${g.currency}`).join(", ") || "0"],
    ["refunds", metrics.total.refunds.map((g) => `${g.amount.toLocaleString()} ${g.currency}`).join(", ") || "0"],
    ["average rating", metrics.total.average_rating.value ?? "–"],
    ["negative review rate", pct(metrics.total.negative_review_rate.value)],
    ["on-time pickup rate", pct(metrics.total.on_time_pickup_rate.value)],
    ["return rate", pct(metrics.total.return_rate.value)],
  ];
  for (const [k, v] of rows) totals.append(el("dt", {}, k), el("dd", {}, String(v)));

  const views = await api(`/order-views?${new URLSearchParams({ seller_id: seller, needs_action: "true", limit: "100" })}`);
  const tbody = document.querySelector("#actions tbody");
  tbody.replaceChildren();
  const soon = new Date(serverNow().getTime() + 86400000);
  for (const view of views.items) {
    const row = el("tr");
    const cell = el("td");
    cell.append(el("a", { href: `/dashboard/orders/${view.order_id}` }, view.order_id.slice(0, 8)));
    row.append(cell, el("td", {}, view.status), el("td", {}, reasons(view, soon)),
      el("td", {}, view.dispatch_deadline || "–"), el("td", {}, view.created_at));
    tbody.append(row);
  }
  if (!views.items.length) {
    const row = el("tr");
    row.append(el("td", { colspan: "5" }, "nothing needs action"));
    tbody.append(row);
  }
  document.getElementById("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
  body.dataset.loaded = "true";
}

document.getElementById("sign-out").addEventListener("click", signOut);
document.getElementById("days").addEventListener("change", () => load().catch(fail));
function fail(error) {
  document.getElementById("status").textContent = `could not load: ${error.message}`;
  body.dataset.loaded = "error";
}
load().catch(fail);
setInterval(() => load().catch(fail), 30000);
