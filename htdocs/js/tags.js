// A tag editor for an order or one of its certificates: the tags as chips with a
// remove button, an input with the team's tags as suggestions, Add.
import { h, uid, add } from './dom.js';
import { errorBox, busy, announce } from './ui.js';
import { objectTags, addTag, removeTag, loadTags } from './org.js';
import { canEdit } from './session.js';

export async function tagEditor(orderId, serial, label) {
  const wrap = h('div', { class: 'tag-editor', 'data-serial': serial || '' });
  const list = h('ul', { class: 'tags', 'aria-label': label });
  const err = errorBox();
  const listId = uid('tagsugg');
  const input = h('input', { type: 'text', id: uid('tag'), list: listId, maxlength: 255, autocomplete: 'off' });
  const datalist = h('datalist', { id: listId });
  const addBtn = h('button', { type: 'submit', class: 'btn small' }, 'Add tag');
  const form = h('form', { class: 'inline-fields' },
    h('div', { class: 'field' }, h('label', { for: input.id }, `Add a tag to ${label.replace(/^Tags (on|of) /, '')}`), input, datalist), addBtn);
  const draw = async () => {
    const tags = await objectTags(orderId, serial);
    list.replaceChildren();
    if (!tags.length) list.append(h('li', { class: 'muted' }, 'No tags yet.'));
    for (const t of tags) {
      const rm = canEdit() ? h('button', { type: 'button', 'aria-label': `Remove the tag ${t.name}` }, '×') : null;
      if (rm) {
        rm.addEventListener('click', () => busy(rm, async () => {
          err.clear();
          try { await removeTag(orderId, serial, t.id); announce(`Tag ${t.name} removed`); await draw(); input.focus(); } catch (e) { err.show(e); }
        }));
      }
      list.append(h('li', { class: 'chip', 'data-tag': t.name }, t.name, rm));
    }
    const team = await loadTags({ fresh: true }).catch(() => ({ list: [] }));
    datalist.replaceChildren();
    for (const t of team.list) datalist.append(h('option', { value: t.name }));
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = input.value.trim();
    err.clear();
    if (!name) { err.show('Type a tag first.'); input.focus(); return; }
    busy(addBtn, async () => {
      try {
        await addTag(orderId, serial, name);
        input.value = '';
        announce(`Tag ${name} added`);
        await draw();
        input.focus();
      } catch (e2) { err.show(e2); input.focus(); }
    });
  });
  await draw();
  add(wrap, [list, canEdit() ? form : null, err]);
  return wrap;
}
