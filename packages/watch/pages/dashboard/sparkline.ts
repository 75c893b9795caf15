/** A small inline SVG line of recent values, built with DOM calls (no markup strings). */
const SVG = 'http://www.w3.org/2000/svg';

export function sparkline(values: number[], title: string, width = 120, height = 22): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const t = document.createElementNS(SVG, 'title');
  t.textContent = title;
  svg.append(t);
  if (values.length < 2) return svg;
  const max = Math.max(...values, 1e-9);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points);
  svg.append(line);
  return svg;
}
