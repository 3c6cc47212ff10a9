// Brand colour with a contrast guard: the colour is used for white button
// text and for links on white, so it must reach WCAG AA (4.5:1) against
// white; a lighter colour is darkened until it does.

export const DEFAULT_BRAND = "#0b5cad";

function parse(hex: string): [number, number, number] | null {
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return null;
  let s = m[1];
  if (s.length === 3) s = s[0] + s[0] + s[1] + s[1] + s[2] + s[2];
  const n = parseInt(s, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function luminance([r, g, b]: [number, number, number]): number {
  const f = (c: number) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

export function contrastWithWhite(rgb: [number, number, number]): number {
  return 1.05 / (luminance(rgb) + 0.05);
}

function hex(rgb: [number, number, number]): string {
  return "#" + rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
}

// guardBrand returns a colour close to the asked one that white text can
// sit on at 4.5:1 or more (the default when the colour is unreadable).
export function guardBrand(asked: string | undefined): string {
  let rgb = asked ? parse(asked) : null;
  if (!rgb) return DEFAULT_BRAND;
  for (let i = 0; i < 40 && contrastWithWhite(rgb) < 4.6; i++) {
    rgb = [rgb[0] * 0.92, rgb[1] * 0.92, rgb[2] * 0.92];
  }
  return hex(rgb);
}
