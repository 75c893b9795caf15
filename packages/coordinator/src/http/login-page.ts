/**
 * The login form shown (with status 401) to a browser without a session, beyond loopback. It
 * posts the token in the request body, never in a URL; the answer sets an HttpOnly cookie. No
 * script, no style: the strict Content-Security-Policy holds here too.
 */
export function loginPage(message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>mnist-lr: log in</title></head>
<body>
<h1>mnist-lr</h1>
<p>This run is watched beyond this machine, so it asks for its token (the one the coordinator was started with).</p>
${message ? `<p><strong>${escapeHtml(message)}</strong></p>` : ''}
<form method="post" action="/login">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form>
</body>
</html>
`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
