// The provider's brand (white-label): GET /v1beta/branding gives the name, logo,
// color and support address this server (or virtual host) is configured with.
import { api } from './api.js';

/** @type {{name: string, logo: string, color: string, support_url: string}} */
export const brand = { name: 'SSL Orders', logo: '/img/logo.svg', color: '#0b5394', support_url: '' };

function darker(hex, f) {
  const n = parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

// contrast of white text on a color (WCAG relative luminance)
function contrastWithWhite(hex) {
  const n = parseInt(hex.slice(1), 16);
  const lin = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const l = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return 1.05 / (l + 0.05);
}

/** The brand color, darkened until white text on it is readable (4.5:1). */
export function readable(hex) {
  let c = hex;
  for (let i = 0; i < 20 && contrastWithWhite(c) < 4.5; i += 1) c = darker(c, 0.9);
  return c;
}

/** Load the brand once and apply its color (CSSOM: allowed by the strict CSP). */
export async function loadBrand() {
  try {
    const b = await api('GET', '/branding');
    if (b && b.name) Object.assign(brand, b);
  } catch (e) {
    // an older server: the defaults
  }
  if (/^#[0-9a-f]{6}$/i.test(brand.color) && brand.color.toLowerCase() !== '#0b5394') {
    const root = document.documentElement.style;
    const c = readable(brand.color);
    root.setProperty('--blue', c);
    root.setProperty('--blue-dark', darker(c, 0.7));
  }
  document.title = brand.name;
  const icon = document.querySelector('link[rel=icon]');
  if (icon && brand.logo) icon.href = brand.logo;
  return brand;
}

/** The header's brand mark: the logo (an image) and the name. */
export function brandMark(h, icon) {
  const logo = brand.logo && brand.logo !== '/img/logo.svg'
    ? h('img', { class: 'brand-logo', src: brand.logo, alt: '' }) : icon('logo');
  return [logo, ` ${brand.name}`];
}
