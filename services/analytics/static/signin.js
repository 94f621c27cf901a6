// Sign in: the pasted bearer token is exchanged for the dashboard's session cookie (HttpOnly,
// so no script reads it afterwards), then the browser goes to the seller's dashboard.
"use strict";

const form = document.getElementById("sign-in");
const message = document.getElementById("status");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("token").value.trim();
  const seller = document.getElementById("seller").value.trim();
  const response = await fetch("/dashboard/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { Authorization: `Bearer ${token}` },
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    message.textContent = `could not sign in: ${answer.detail || response.status}`;
    return;
  }
  document.getElementById("token").value = "";
  const target = answer.dashboard || (seller && `/dashboard/sellers/${encodeURIComponent(seller)}`);
  if (target) window.location.assign(target);
  else message.textContent = "signed in as an operator: enter a seller id to open its dashboard";
});
