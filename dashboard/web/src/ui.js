// Small DOM helpers: element builder, error display, progress, lists with
// search / filters / pagination, forms with field errors next to the fields.

import { ApiError, get } from "./api.js";

/** Build an element: h("button", {class: "x", onclick}, "text", child...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const money = (amount, currency) =>
  amount === undefined || amount === null
    ? ""
    : `${Number(amount).toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency || ""}`.trim();
export { money };

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return iso.length <= 10
    ? iso
    : date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export const badge = (status) =>
  h("span", { class: `badge badge-${status}` }, (status || "").replaceAll("_", " "));

/** Announce a short message to screen readers and show it as a toast. */
export function announce(text, kind = "ok") {
  const liveRegion = document.getElementById("toast");
  if (!liveRegion) return;
  clear(liveRegion, h("p", { class: `toast toast-${kind}` }, text));
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => clear(liveRegion), 6000);
}

const HINTS = {
  401: "Your session has ended; please sign in again.",
  403: "Your role is not allowed to do this.",
  404: "It does not exist (any more), or it is not visible to you.",
  409: "The current state does not allow this.",
  422: "Some fields need correcting; see the messages next to them.",
  429: "Too many requests; wait a moment and try again.",
};
const CODE_HINTS = {
  "maker-checker":
    "Maker-checker rule: whoever created or last edited a package revision cannot approve or reject it. Ask another operation head.",
};

/** A problem+json error in words: title, detail, a hint, and non-field errors. */
export function errorBox(error) {
  const problem =
    error instanceof ApiError
      ? error.problem
      : { title: "Error", detail: String(error?.message || error) };
  const code = (problem.type || "").split("/").pop();
  const hint = CODE_HINTS[code] || HINTS[error?.status];
  const general = Object.entries(problem.errors || {}).filter(
    ([field]) => field === "_schema" || field.startsWith("query."),
  );
  return h(
    "div",
    { class: "error-box", role: "alert" },
    h(
      "strong",
      {},
      `${problem.title || "Error"}${error?.status ? ` (${error.status})` : ""}: `,
    ),
    problem.detail || "",
    hint ? h("p", { class: "hint" }, hint) : null,
    general.length
      ? h(
          "ul",
          {},
          general.map(([f, m]) =>
            h("li", {}, `${f === "_schema" ? "" : `${f}: `}${[].concat(m).join(" ")}`),
          ),
        )
      : null,
  );
}

/** Show `error` inside `slot` (and field errors inside `form`, if given). */
export function showError(slot, error, form) {
  clear(slot, errorBox(error));
  if (form && error instanceof ApiError) markFields(form, error.fields);
}

/** Put each field's messages next to its input (`name` = API field path). */
export function markFields(form, fields) {
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  form
    .querySelectorAll("[aria-invalid]")
    .forEach((el) => el.removeAttribute("aria-invalid"));
  let first = null;
  for (const [name, messages] of Object.entries(fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) continue;
    const id = `err-${name.replace(/[^a-z0-9_]/gi, "-")}`;
    const note = h("span", { class: "field-error", id }, [].concat(messages).join(" "));
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    input.after(note);
    first ||= input;
  }
  first?.focus();
}

/** Run `work()` with `button` showing progress (disabled, aria-busy). */
export async function busy(button, work, label = "Working…") {
  const isButton = button.tagName === "BUTTON";
  const text = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (isButton) button.textContent = label;
  document.body.classList.add("is-busy");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (isButton) button.textContent = text;
    document.body.classList.remove("is-busy");
  }
}

let fieldCount = 0;

/** A labelled input (label tied by `for`/`id`); `options` makes a select. */
export function field(
  label,
  name,
  { type = "text", value = "", options, required, ...rest } = {},
) {
  const id =
    rest.id || `f-${(name || "x").replace(/[^a-z0-9]/gi, "-")}-${++fieldCount}`;
  let input;
  if (options) {
    input = h(
      "select",
      { name, required, id, ...rest },
      options.map((o) => {
        const [v, t] = Array.isArray(o) ? o : [o, o.replaceAll("_", " ")];
        return h("option", { value: v, selected: String(v) === String(value) }, t);
      }),
    );
  } else if (type === "textarea") {
    input = h("textarea", { name, required, rows: 3, id, ...rest }, value ?? "");
  } else {
    input = h("input", { name, type, value: value ?? "", required, id, ...rest });
  }
  return labelled(label, input);
}

/** Wrap `control` (which has an id) with its label. */
export function labelled(label, control) {
  control.id ||= `f-${++fieldCount}`;
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

/** Values of a form's named controls as strings (empty ones left out). */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") values[el.name] = el.checked;
    else if (el.value !== "") values[el.name] = el.value.trim();
  }
  return values;
}

/** A table: columns [{label, value: row => node|string, class?}]. */
export function table(columns, rows, caption) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.length
          ? rows.map((row) =>
              h(
                "tr",
                {},
                columns.map((c) =>
                  h("td", { class: c.class, "data-label": c.label }, c.value(row)),
                ),
              ),
            )
          : h(
              "tr",
              {},
              h("td", { colspan: columns.length, class: "empty" }, "Nothing to show."),
            ),
      ),
    ),
  );
}

/**
 * A paginated list bound to one API collection: search box and filters become
 * query parameters (the API's own), the table shows `columns`, a pager walks pages.
 * Returns the section element; `reload()` on it fetches the current page again.
 */
export function listView({
  path,
  columns,
  filters = [],
  search,
  caption,
  perPage = 20,
  initial = {},
  onRows,
}) {
  const state = { page: 1, ...initial };
  const slot = h("div", { "aria-live": "polite" });
  const errors = h("div");
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": `Filter ${(caption || "list").toLowerCase()}`,
      onsubmit: (e) => {
        e.preventDefault();
        state.page = 1;
        Object.assign(state, formValues(form));
        for (const el of form.elements)
          if (el.name && el.value === "") delete state[el.name];
        load();
      },
    },
    search ? field(search, "q", { type: "search", value: state.q }) : null,
    filters.map((f) =>
      field(f.label, f.name, {
        options: f.options,
        type: f.type,
        value: state[f.name] ?? "",
      }),
    ),
    filters.length || search ? h("button", { type: "submit" }, "Apply") : null,
  );
  const section = h("section", { class: "list" }, form, errors, slot);
  async function load() {
    clear(slot, h("p", { class: "loading" }, "Loading…"));
    clear(errors);
    try {
      const data = await get(path, { ...state, per_page: perPage });
      const meta = data.meta || {};
      onRows?.(data.items);
      clear(
        slot,
        table(columns, data.items, caption),
        h(
          "nav",
          { class: "pager", "aria-label": `${caption || "List"} pages` },
          h(
            "button",
            {
              type: "button",
              disabled: state.page <= 1,
              onclick: () => {
                state.page -= 1;
                load();
              },
            },
            "Previous",
          ),
          h(
            "span",
            {},
            `Page ${meta.page || 1} of ${meta.pages || 1} · ${meta.total ?? data.items.length}${meta.total_is_estimate ? "≈" : ""} items`,
          ),
          h(
            "button",
            {
              type: "button",
              disabled: !(meta.has_more ?? meta.page < meta.pages),
              onclick: () => {
                state.page += 1;
                load();
              },
            },
            "Next",
          ),
        ),
      );
    } catch (error) {
      clear(slot);
      showError(errors, error, form);
    }
  }
  section.reload = load;
  load();
  return section;
}

/** Link to a hash route. */
export const link = (href, text, attrs = {}) =>
  h("a", { href: `#${href}`, ...attrs }, text);

/** The page heading (focused after navigation, for keyboard and screen-reader users). */
export const heading = (text) => h("h1", { tabindex: "-1", id: "page-title" }, text);
