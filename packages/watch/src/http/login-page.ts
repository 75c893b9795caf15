/**
 * The login form, shown (with status 401) to a browser without a session on a server beyond
 * loopback. It posts the token in the request body, never in a URL; the answer sets an HttpOnly
 * session cookie. No script and nothing inline: the strict Content-Security-Policy holds here
 * too. Its stylesheet and the form's target are public (see gate.ts).
 */
import { escapeHtml } from './html.js';

export function loginPage(message = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · mnist-lr</title>
<link rel="stylesheet" href="/login.css">
</head>
<body>
<main>
<h1>mnist-lr</h1>
<p>This server is reachable beyond this machine, so it asks for its token (the one it was started with).</p>
<form method="post" action="/login">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
</form>
</main>
</body>
</html>
`;
}
