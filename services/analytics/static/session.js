// The dashboard's session: signing out clears its cookie (the server does: it is HttpOnly).
"use strict";

async function signOut() {
  await fetch("/dashboard/session", { method: "DELETE", credentials: "same-origin" });
  window.location.assign("/dashboard/sign-in");
}
