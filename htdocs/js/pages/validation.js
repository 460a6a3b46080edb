import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('validation'); ctx.view.append(h('h1', { tabindex: '-1' }, 'validation')); }
export const renderOne = render;
export const renderExplorer = render;
