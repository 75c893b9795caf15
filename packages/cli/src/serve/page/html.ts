/**
 * The draw page's HTML and CSS, and the login form. Served by the process itself; the page's
 * script is draw.js (compiled from draw.ts). Nothing is inline, so a strict CSP holds. Every URL
 * in them is relative, so the page also works mounted under a path of another server.
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const DIGITS = Array.from({ length: 10 }, (_, k) => k);

/** The draw page for a model called `name`. */
export function drawPage(name: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Draw a digit · mnist-lr</title>
<link rel="stylesheet" href="draw.css">
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<script type="module" src="draw.js"></script>
</head>
<body>
<main>
  <header>
    <h1>Draw a digit</h1>
    <p class="model">model <b>${escapeHtml(name)}</b>: softmax regression on MNIST</p>
  </header>
  <section class="board">
    <div class="pad">
      <canvas id="pad" width="280" height="280" aria-label="Drawing area: draw one digit with the mouse, a pen or a finger"></canvas>
      <div class="controls">
        <button id="clear" type="button">Clear</button>
        <p id="status" role="status">Draw a digit from 0 to 9.</p>
      </div>
    </div>
    <div class="result" aria-live="polite" aria-busy="false">
      <div class="answer">
        <div><span class="caption">it reads</span><output id="label">–</output></div>
        <figure>
          <canvas id="seen" width="28" height="28" aria-label="The 28×28 image the model sees"></canvas>
          <figcaption>what the model sees</figcaption>
        </figure>
      </div>
      <ol id="bars" class="bars" aria-label="Probability of each digit">
${DIGITS.map((k) => `        <li data-digit="${k}"><span class="digit">${k}</span><span class="track"><span class="fill"></span></span><span class="value">–</span></li>`).join('\n')}
      </ol>
    </div>
  </section>
</main>
</body>
</html>
`;
}

/** The login form shown beyond loopback to a browser without a session. */
export function loginPage(failed: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · mnist-lr</title>
<link rel="stylesheet" href="draw.css">
</head>
<body>
<main class="login">
  <h1>mnist-lr</h1>
  <form method="post" action="login">
    <label for="token">Token of this server</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required>
    <button type="submit">Log in</button>
    ${failed ? '<p class="error" role="alert">That is not the token. Ask whoever started the server.</p>' : ''}
  </form>
</main>
</body>
</html>
`;
}

/** The tab's icon: a white 7 on black, like an MNIST digit. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 28 28"><rect width="28" height="28" rx="4" fill="#000"/><path d="M8 7h12l-7 15" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>
`;

export const DRAW_CSS = `:root {
  color-scheme: light dark;
  --ink: #1d2330;
  --muted: #5d6679;
  --paper: #f6f7fb;
  --card: #ffffff;
  --line: #d9dde8;
  --accent: #2f6fde;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --ink: #e6e9f0; --muted: #9aa3b5; --paper: #14171e; --card: #1c2029; --line: #313747; --accent: #6b9cff; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink); }
main { max-width: 980px; margin: 0 auto; padding: 24px 16px 40px; }
header h1 { margin: 0 0 4px; font-size: 1.6rem; }
.model { margin: 0 0 20px; color: var(--muted); }
.board { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.pad, .result { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px; }
.pad { flex: 0 1 auto; width: min(100%, 392px); }
#pad { display: block; width: 100%; aspect-ratio: 1; background: #000; border-radius: 8px; touch-action: none; cursor: crosshair; }
.controls { display: flex; align-items: center; gap: 12px; margin-top: 12px; }
.controls p { margin: 0; color: var(--muted); font-size: 0.95rem; }
button { font: inherit; padding: 8px 18px; border-radius: 8px; border: 1px solid var(--line); background: var(--paper); color: var(--ink); cursor: pointer; }
button:hover { border-color: var(--accent); }
.result { flex: 1 1 300px; min-width: 0; }
.answer { display: flex; align-items: center; justify-content: space-between; gap: 16px; margin-bottom: 12px; }
.caption { display: block; color: var(--muted); font-size: 0.9rem; }
#label { display: block; font-size: 4rem; font-weight: 700; line-height: 1; color: var(--accent); }
figure { margin: 0; text-align: center; }
#seen { width: 84px; height: 84px; image-rendering: pixelated; background: #000; border-radius: 4px; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.8rem; }
.bars { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
.bars li { display: grid; grid-template-columns: 1.5em 1fr 4.5em; align-items: center; gap: 8px; font-variant-numeric: tabular-nums; }
.digit { font-weight: 600; text-align: center; }
.track { height: 14px; background: var(--paper); border: 1px solid var(--line); border-radius: 7px; overflow: hidden; }
.fill { display: block; height: 100%; width: 0; background: var(--muted); transition: width 120ms ease-out; }
.bars li.top .fill { background: var(--accent); }
.bars li.top .digit { color: var(--accent); }
.value { text-align: right; color: var(--muted); font-size: 0.9rem; }
.login { max-width: 360px; }
.login form { display: grid; gap: 10px; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px; }
.login input { font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--line); background: var(--paper); color: var(--ink); }
.error { color: #c0392b; margin: 0; }
`;
