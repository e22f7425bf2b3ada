function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface LandingLink {
  readonly href: string;
  readonly text: string;
}

export function landingPage(
  title: string,
  version: string,
  telemetryPath: string,
  links: readonly LandingLink[] = [],
): string {
  const t = escapeHtml(title);
  const extra = links
    .map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a></li>\n`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${t}</title></head>
<body>
<h1>${t}</h1>
<p>Version ${escapeHtml(version)}</p>
<ul>
${extra}<li><a href="${escapeHtml(telemetryPath)}">Metrics</a></li>
<li><a href="/health">Health</a></li>
<li><a href="/ready">Readiness</a></li>
</ul>
</body>
</html>
`;
}
