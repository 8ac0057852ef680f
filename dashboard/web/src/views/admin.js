// Admin (and hr, read-only): employees and the audit log.

import { patch, post } from "../api.js";
import { ROLES } from "../config.js";
import {
  announce,
  busy,
  clear,
  field,
  formValues,
  h,
  heading,
  listView,
  showError,
  when,
} from "../ui.js";

async function employeesView(main, { me }) {
  const isAdmin = me.role === "admin";
  const errors = h("div");
  let list;
  const roleControl = (e) => {
    if (!isAdmin) return e.role.replace("_", " ");
    const select = h(
      "select",
      {
        "aria-label": `Role of ${e.name}`,
        onchange: async () => {
          try {
            await busy(select, () =>
              patch(`/employees/${e.id}`, { role: select.value }),
            );
            announce(`${e.name} is now ${select.value.replace("_", " ")}.`);
          } catch (error) {
            select.value = e.role;
            showError(errors, error);
          }
        },
      },
      ROLES.map((r) =>
        h("option", { value: r, selected: r === e.role }, r.replace("_", " ")),
      ),
    );
    return select;
  };
  const activeControl = (e) => {
    if (!isAdmin) return e.active ? "active" : "inactive";
    const button = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await busy(button, () =>
              patch(`/employees/${e.id}`, { active: !e.active }),
            );
            announce(`${e.name} ${e.active ? "deactivated" : "reactivated"}.`);
            list.reload();
          } catch (error) {
            showError(errors, error);
          }
        },
      },
      e.active ? `Deactivate ${e.name}` : `Reactivate ${e.name}`,
    );
    return h("span", {}, e.active ? "active " : "inactive ", button);
  };
  list = listView({
    path: "/employees",
    caption: "Employees",
    search: "Search name or email",
    filters: [
      { label: "Role", name: "role", options: [["", "Any"], ...ROLES] },
      {
        label: "Active",
        name: "active",
        options: [
          ["", "Any"],
          ["true", "Active"],
          ["false", "Inactive"],
        ],
      },
    ],
    columns: [
      { label: "Name", value: (e) => e.name },
      { label: "Email", value: (e) => e.email },
      { label: "Role", value: roleControl },
      { label: "Status", value: activeControl },
    ],
  });
  const formErrors = h("div");
  const form = h(
    "form",
    {
      class: "card form-grid",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const created = await busy(form.querySelector("button"), () =>
            post("/employees", formValues(form)),
          );
          announce(`Employee ${created.name} created.`);
          form.reset();
          list.reload();
        } catch (error) {
          showError(formErrors, error, form);
        }
      },
    },
    h("h2", {}, "Create an employee"),
    formErrors,
    field("Name", "name", { required: true }),
    field("Email", "email", { type: "email", required: true }),
    field("Phone", "phone", {}),
    field("Role", "role", { options: ROLES, value: "sales" }),
    field("Initial password", "password", {
      type: "password",
      required: true,
      autocomplete: "new-password",
    }),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Create employee"),
    ),
  );
  clear(main, heading("Employees"), errors, list, isAdmin ? form : null);
}

async function auditView(main) {
  clear(
    main,
    heading("Audit log"),
    listView({
      path: "/audit",
      caption: "Audit entries",
      perPage: 25,
      filters: [
        { label: "Action", name: "action" },
        { label: "Entity type", name: "entity_type" },
        { label: "Entity id", name: "entity_id", type: "number" },
        {
          label: "Actor type",
          name: "actor_type",
          options: [["", "Any"], "employee", "customer", "system"],
        },
        { label: "From", name: "date_from", type: "date" },
        { label: "To", name: "date_to", type: "date" },
      ],
      columns: [
        { label: "When", value: (a) => when(a.occurred_at) },
        { label: "Action", value: (a) => a.action },
        {
          label: "Entity",
          value: (a) => `${a.entity_type || ""} ${a.entity_id ?? ""}`,
        },
        { label: "Actor", value: (a) => a.actor_email || a.actor_type },
        {
          label: "Details",
          value: (a) => h("code", {}, JSON.stringify(a.details || {})),
        },
      ],
    }),
  );
}

export const adminRoutes = [
  ["/employees", employeesView],
  ["/audit", auditView],
];
