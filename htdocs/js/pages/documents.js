import { h } from '../dom.js';
export async function render(ctx) { ctx.setTitle('documents'); ctx.view.append(h('h1', { tabindex: '-1' }, 'documents')); }
export const renderOne = render;
export const renderExplorer = render;
