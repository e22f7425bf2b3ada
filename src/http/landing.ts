function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function landingPage(title: string, version: string, telemetryPath: string): string {
  const t = escapeHtml(title);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${t}</title></head>
<body>
<h1>${t}</h1>
<p>Version ${escapeHtml(version)}</p>
<ul>
<li><a href="${escapeHtml(telemetryPath)}">Metrics</a></li>
<li><a href="/health">Health</a></li>
<li><a href="/ready">Readiness</a></li>
</ul>
</body>
</html>
`;
}
