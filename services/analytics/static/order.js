// One order's view and timeline, from GET /v1/order-views/{order_id}.
"use strict";

const body = document.body;

function el(tag, text = "") {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

async function load() {
  const response = await fetch(`/dashboard/api/order-views/${body.dataset.order}`, {
    credentials: "same-origin",
  });
  if (response.status === 401) window.location.assign("/dashboard/sign-in");
  if (!response.ok) throw new Error(`${response.status}`);
  const view = await response.json();
  const summary = document.getElementById("summary");
  const money = (m) => (m ? `${m.amount} ${m.currency}` : "–");
  for (const [k, v] of [
    ["status", view.status], ["total", money(view.total)], ["created", view.created_at],
    ["dispatch by", view.dispatch_deadline || "–"], ["deliver by", view.deliver_by || "–"],
    ["open after-sales", view.open_aftersales_cases], ["review", view.review ? `${view.review.rating} ★` : "–"],
  ]) summary.append(el("dt", k), el("dd", String(v)));
  const tbody = document.querySelector("#packages tbody");
  for (const p of view.packages) {
    const row = el("tr");
    for (const v of [p.package_id.slice(0, 8), p.status, p.handover || "–", p.carrier || "–",
      p.tracking_number || "–", (p.pickup && p.pickup.status) || "–"]) row.append(el("td", v));
    tbody.append(row);
  }
  const timeline = document.getElementById("timeline");
  for (const t of view.timeline) timeline.append(el("li", `${t.at} · ${t.event_type} · ${t.summary}`));
  document.getElementById("status").textContent = `${view.timeline.length} events`;
}

document.getElementById("sign-out").addEventListener("click", signOut);
load().catch((e) => { document.getElementById("status").textContent = `could not load: ${e.message}`; });
