// Building the DOM safely: every piece of data becomes a text node or an attribute
// value, never HTML. The portal never assigns innerHTML.

const BOOL_PROPS = new Set(['checked', 'selected', 'disabled', 'multiple', 'required', 'hidden',
  'readOnly', 'open', 'autofocus']);

/** h('a', {href: '/x', class: 'btn', onClick: fn}, 'text', child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') {
        el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      } else if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === 'value') {
        el.value = String(v);
      } else if (BOOL_PROPS.has(k)) {
        el[k] = Boolean(v);
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'ref' && typeof v === 'function') {
        v(el);
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  add(el, children);
  return el;
}

export function add(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function text(el, s) {
  el.textContent = s == null ? '' : String(s);
  return el;
}

let idSeq = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix = 'id') {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

export function show(el, on = true) {
  el.hidden = !on;
  return el;
}

/** An inline SVG icon from /img (decorative: alt=""). */
export function icon(name, label) {
  return h('img', { src: `/img/${name}.svg`, alt: label || '', class: 'icon', width: 16, height: 16 });
}

/** Replace the children (arrays flattened, null/false left out, text as text). */
export function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}
