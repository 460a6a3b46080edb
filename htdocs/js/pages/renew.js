import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('renew'); ctx.view.append(h('h1', { tabindex: '-1' }, 'renew')); }
export const renderOne = render;
export const renderExplorer = render;
